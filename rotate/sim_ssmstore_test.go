package rotate_test

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/ssmstore"
)

// ssmBackend keeps the key in an SSM SecureString parameter of the fake,
// through package ssmstore: staged (consumers read the version labelled
// current) or plain (consumers read the latest version). Every request of
// the stores goes through the plan (simHTTP).
type ssmBackend struct {
	w     *simWorld
	stage bool
}

const simParameter = "/app/access-key"

func (b *ssmBackend) name() string {
	if b.stage {
		return "ssmstore(staging)"
	}
	return "ssmstore"
}

func (b *ssmBackend) staging() bool { return b.stage }
func (b *ssmBackend) loader() bool  { return true }

// set writes key as the parameter's first version, labelled current for a
// staging store.
func (b *ssmBackend) set(key iamkeys.NewKey) {
	v, _ := json.Marshal(map[string]string{"AccessKeyId": key.ID, "SecretAccessKey": key.Secret.Reveal()})
	c := ssm.NewFromConfig(b.w.srv.Config())
	ctx := context.Background()
	if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(simParameter), Value: aws.String(string(v)),
		Type: ssmtypes.ParameterTypeSecureString}); err != nil {
		panic(err)
	}
	if b.stage {
		if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String(simParameter),
			ParameterVersion: aws.Int64(1), Labels: []string{"current"}}); err != nil {
			panic(err)
		}
	}
}

// read returns the key of the version labelled label ("" for the latest),
// from the fake's state.
func (b *ssmBackend) read(label string) iamkeys.NewKey {
	s, _, ok := b.w.srv.ParameterValue(simParameter, label)
	if !ok {
		return iamkeys.NewKey{}
	}
	var doc struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		b.w.violate("harness", "the parameter's value is not JSON")
		return iamkeys.NewKey{}
	}
	return iamkeys.NewKey{Key: iamkeys.Key{ID: doc.AccessKeyId, UserName: b.w.user}, Secret: iamkeys.NewSecret(doc.SecretAccessKey)}
}

func (b *ssmBackend) current() iamkeys.NewKey {
	if b.stage {
		return b.read("current")
	}
	return b.read("")
}

func (b *ssmBackend) holding() rotate.Holding {
	h := rotate.Holding{Current: b.current().ID}
	if b.stage {
		if p := b.read("pending").ID; p != h.Current {
			h.Pending = p
		}
	}
	return h
}

// store is the process's own ssmstore over its own client, with no SDK
// retries and no real waits between the store's own tries.
func (b *ssmBackend) store(p *simProc) rotate.Store {
	c := ssm.NewFromConfig(simStoreConfig(p, "InternalServerError"))
	noWait := ssmstore.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() })
	if b.stage {
		s, err := ssmstore.NewStaging(c, simParameter, noWait)
		if err != nil {
			panic(err)
		}
		return s
	}
	s, err := ssmstore.New(c, simParameter, noWait)
	if err != nil {
		panic(err)
	}
	return s
}
