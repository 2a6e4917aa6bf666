package ssmstore_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
	"github.com/iamkeys/iamkeys/store/ssmstore"
)

// A Staging store keeps a new key pending until Promote; consumers read
// "name:current" and see the new key only once it is promoted.
func Example() {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	client := ssm.NewFromConfig(srv.Config())

	store, err := ssmstore.NewStaging(client, "/app/iam/key")
	if err != nil {
		log.Fatal(err)
	}
	consumer := func() string {
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(store.ConsumerName()), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "nothing yet"
		}
		return "version " + fmt.Sprint(out.Parameter.Version)
	}

	key := iamkeys.NewKey{Key: iamkeys.Key{ID: "AKIAEXAMPLEEXAMPLE01"}, Secret: iamkeys.NewSecret("example-secret")}
	if err := store.Put(ctx, key); err != nil {
		log.Fatal(err)
	}
	h, _ := store.Holding(ctx)
	fmt.Printf("after Put: current %q, pending %q; %s reads %s\n", h.Current, h.Pending, store.ConsumerName(), consumer())

	if err := store.Promote(ctx, key.ID); err != nil {
		log.Fatal(err)
	}
	h, _ = store.Holding(ctx)
	fmt.Printf("after Promote: current %q, pending %q; %s reads %s\n", h.Current, h.Pending, store.ConsumerName(), consumer())
	// Output:
	// after Put: current "", pending "AKIAEXAMPLEEXAMPLE01"; /app/iam/key:current reads nothing yet
	// after Promote: current "AKIAEXAMPLEEXAMPLE01", pending ""; /app/iam/key:current reads version 1
}
