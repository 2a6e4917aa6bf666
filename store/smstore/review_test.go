package smstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys/rotate"
	"github.com/iamkeys/iamkeys/store/smstore"
)

// TestReviewPutAgainReadFails: a Put of a key the secret holds already
// (current after Promote, or still pending) whose first read fails must not
// say ErrNotStored, which tells the rotation to delete the key at once
// (rotate.ErrNotStored: "the new key may be deleted at once"). Consumers
// read the current key; a pending one is Promote's to make current.
func TestReviewPutAgainReadFails(t *testing.T) {
	for _, promoted := range []bool{true, false} {
		for _, fault := range []string{"500", "cancelled"} {
			f := newFixture(t)
			ctx := context.Background()
			if err := f.store.Put(ctx, newKey); err != nil {
				t.Fatal(err)
			}
			if promoted {
				if err := f.store.Promote(ctx, newKey.ID); err != nil {
					t.Fatal(err)
				}
			}
			st, err := smstore.New(f.sm, secretName, smstore.WithClientOptions(noRetry))
			if err != nil {
				t.Fatal(err)
			}
			putCtx := ctx
			switch fault {
			case "500":
				f.srv.FailNext("GetSecretValue", "InternalServiceError", 1)
			case "cancelled":
				c, cancel := context.WithCancel(ctx)
				cancel()
				putCtx = c
			}
			err = st.Put(putCtx, newKey)
			noSecrets(t, err)
			if errors.Is(err, rotate.ErrNotStored) {
				t.Errorf("promoted %v, %s: Put = %v, wrapping ErrNotStored though the secret holds the key", promoted, fault, err)
			}
			if h := f.holding(); !h.Holds(newKey.ID) {
				t.Fatalf("Holding = %+v", h)
			}
		}
	}
}

// TestReviewPutFreshReadFails: for a key the secret does not hold, a read
// refused before the write still gives ErrNotStored (the labels show no
// version of the key), and one that cannot tell does not.
func TestReviewPutFreshReadFails(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	st, _ := smstore.New(f.sm, secretName, smstore.WithClientOptions(noRetry))
	f.srv.FailNext("GetSecretValue", "InternalServiceError", 1)
	wantNotStored(t, st.Put(ctx, newKey))

	f.srv.FailNext("GetSecretValue", "InternalServiceError", 1)
	f.srv.FailNext("DescribeSecret", "InternalServiceError", 1)
	if err := st.Put(ctx, newKey); err == nil || errors.Is(err, rotate.ErrNotStored) {
		t.Fatalf("Put that cannot read the secret at all = %v, want an error without ErrNotStored", err)
	}
}

// TestReviewCaseVariantMembers: Put must not leave a case variant of the
// key members ("accessKeyId") holding the old key beside the new members:
// encoding/json matches struct fields without regard to case, the last
// member winning, so Go consumers decoding the value into a struct would
// keep reading the old key while Holding reports the new one.
func TestReviewCaseVariantMembers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(secretName), ClientRequestToken: aws.String("1b6f1d4e-5c2a-4e8e-9b1f-3a7d2c9e8f10"),
		SecretString: aws.String(`{"accessKeyId":"AKIAOLDOLDOLDOLDOLD1","secretAccessKey":"old-secret-value","Region":"eu-west-1"}`),
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Put(ctx, newKey); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Promote(ctx, newKey.ID); err != nil {
		t.Fatal(err)
	}
	var consumer struct{ AccessKeyId string }
	if err := json.Unmarshal([]byte(f.value("AWSCURRENT")), &consumer); err != nil {
		t.Fatal(err)
	}
	if h := f.holding(); consumer.AccessKeyId != h.Current {
		t.Errorf("a Go consumer reads %s, Holding reports %s", consumer.AccessKeyId, h.Current)
	}
}
