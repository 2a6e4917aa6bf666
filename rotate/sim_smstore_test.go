package rotate_test

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/smstore"
)

// smBackend keeps the key in a Secrets Manager secret of the fake, through
// package smstore: a staging, loading store whose every request the plan
// can fail, lose the answer of, or interleave with another process
// (simHTTP). Consumers read AWSCURRENT.
type smBackend struct {
	w      *simWorld
	secret string
}

const simSecretID = "app/access-key"

func newSMBackend(w *simWorld) *smBackend {
	return &smBackend{w: w, secret: simSecretID}
}

func (b *smBackend) name() string  { return "smstore" }
func (b *smBackend) staging() bool { return true }
func (b *smBackend) loader() bool  { return true }

// set creates the secret holding key as AWSCURRENT, with a member of the
// consumers' own that every version must keep.
func (b *smBackend) set(key iamkeys.NewKey) {
	v, _ := json.Marshal(map[string]string{"AccessKeyId": key.ID, "SecretAccessKey": key.Secret.Reveal(), "Region": "us-east-1"})
	c := secretsmanager.NewFromConfig(b.w.srv.Config())
	if _, err := c.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(b.secret), SecretString: aws.String(string(v)),
	}); err != nil {
		panic(err)
	}
}

// read returns the key under stage, read from the fake's state.
func (b *smBackend) read(stage string) iamkeys.NewKey {
	s, _, ok := b.w.srv.SecretString(b.secret, stage)
	if !ok {
		return iamkeys.NewKey{}
	}
	var doc struct{ AccessKeyId, SecretAccessKey, Region string }
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		b.w.violate("harness", "the secret's "+stage+" value is not JSON")
		return iamkeys.NewKey{}
	}
	if doc.Region != "us-east-1" {
		b.w.violate("store-members-kept", "the secret's "+stage+" version lost the consumers' Region member")
	}
	return iamkeys.NewKey{Key: iamkeys.Key{ID: doc.AccessKeyId, UserName: b.w.user}, Secret: iamkeys.NewSecret(doc.SecretAccessKey)}
}

func (b *smBackend) current() iamkeys.NewKey { return b.read("AWSCURRENT") }

func (b *smBackend) holding() rotate.Holding {
	h := rotate.Holding{Current: b.read("AWSCURRENT").ID}
	if p := b.read("AWSPENDING").ID; p != h.Current {
		h.Pending = p
	}
	return h
}

// store is the process's own smstore over its own client, whose requests
// go through the plan (simHTTP) with no SDK retries.
func (b *smBackend) store(p *simProc) rotate.Store {
	s, err := smstore.New(secretsmanager.NewFromConfig(simStoreConfig(p, "InternalServiceError")), b.secret)
	if err != nil {
		panic(err)
	}
	return s
}
