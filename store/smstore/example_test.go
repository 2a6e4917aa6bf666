package smstore_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/store/smstore"
)

func Example() {
	ctx := context.Background()
	srv := iamkeystest.NewServer()
	defer srv.Close()
	sm := secretsmanager.NewFromConfig(srv.Config())

	// The secret the consumers read, seeded with the key they use now.
	_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("app/aws"),
		SecretString: aws.String(`{"AccessKeyId":"AKIAOLDKEYOLDKEY0001","SecretAccessKey":"old","Region":"eu-west-1"}`),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	store, err := smstore.New(sm, "app/aws")
	if err != nil {
		fmt.Println(err)
		return
	}
	// A rotate.Rotator does this: Put the new key (pending), verify it,
	// then Promote it.
	key := iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIANEWKEYNEWKEY0002"}, Secret: iamkeys.NewSecret("new")}
	if err := store.Put(ctx, key); err != nil {
		fmt.Println(err)
		return
	}
	h, _ := store.Holding(ctx)
	fmt.Printf("after Put:     current %s, pending %s\n", h.Current, h.Pending)

	if err := store.Promote(ctx, key.ID); err != nil {
		fmt.Println(err)
		return
	}
	h, _ = store.Holding(ctx)
	fmt.Printf("after Promote: current %s, pending %q\n", h.Current, h.Pending)

	out, _ := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/aws")})
	fmt.Println("consumers read version", aws.ToString(out.VersionId))
	// Output:
	// after Put:     current AKIAOLDKEYOLDKEY0001, pending AKIANEWKEYNEWKEY0002
	// after Promote: current AKIANEWKEYNEWKEY0002, pending ""
	// consumers read version iamkeys-rotation-AKIANEWKEYNEWKEY0002
}
