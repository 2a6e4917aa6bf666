package iamkeystest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

func ExampleNewServer() {
	srv := iamkeystest.NewServer(iamkeystest.WithClock(iamkeystest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))))
	defer srv.Close()

	client := srv.Client()
	ctx := context.Background()
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		fmt.Println(err)
		return
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*key.AccessKey.AccessKeyId, key.AccessKey.Status, key.AccessKey.CreateDate.Format(time.RFC3339))

	_, err = client.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	fmt.Println(err != nil, srv.Calls("GetUser"))
	// Output:
	// AKIAIAMKEYSTEST00002 Active 2026-01-02T03:04:05Z
	// true 1
}

func ExampleServer_FailNext() {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	srv.FailNext("ListUsers", "Throttling", 5) // more than the SDK's 3 attempts

	_, err := srv.Client(func(o *iam.Options) { o.RetryMaxAttempts = 1 }).ListUsers(context.Background(), &iam.ListUsersInput{})
	fmt.Println(err != nil, srv.Calls("ListUsers"))
	// Output: true 1
}
