package iamkeys_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys"
	"github.com/iamkeys/iamkeys/iamkeystest"
)

// The read-only S3 policy of the classic scenario.
const s3ReadOnly = `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]
}`

// exampleManager starts an in-memory IAM endpoint on a fake clock and returns
// a Manager over its real SDK client.
func exampleManager() (*iamkeys.Manager, *iamkeystest.Server, *iamkeystest.Clock) {
	clk := iamkeystest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	srv := iamkeystest.NewServer(iamkeystest.WithClock(clk))
	m, err := iamkeys.New(srv.Client(), iamkeys.WithClock(clk))
	if err != nil {
		log.Fatal(err)
	}
	return m, srv, clk
}

// The classic scenario end to end: a read-only S3 user, a key, its listing,
// last use and status, and the cleanup.
func Example() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	ctx := context.Background()

	u, err := m.EnsureUser(ctx, "S3UserReadOnlyAccess", iamkeys.WithInlinePolicy("S3ReadOnly", s3ReadOnly))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", u.Name, "created:", u.Created)

	key, err := m.CreateKey(ctx, u.Name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("key:", key.ID, "secret:", key.Secret) // the secret prints redacted

	if err := m.SetStatus(ctx, u.Name, key.ID, iamkeys.StatusInactive); err != nil {
		log.Fatal(err)
	}
	keys, err := m.ListKeys(ctx, u.Name)
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		last, err := m.LastUsed(ctx, k.ID)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(k.ID, k.Status, last)
	}

	deleted, err := m.DeleteAll(ctx, u.Name)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted:", deleted)
	if err := m.DeleteUser(ctx, u.Name); err != nil {
		log.Fatal(err)
	}
	// Output:
	// user: S3UserReadOnlyAccess created: true
	// key: AKIAIAMKEYSTEST00002 secret: [REDACTED]
	// AKIAIAMKEYSTEST00002 Inactive never used
	// deleted: [AKIAIAMKEYSTEST00002]
}

func ExampleNew() {
	srv := iamkeystest.NewServer()
	defer srv.Close()

	// Any APIClient will do; *iam.Client is the usual one. Options are
	// checked here, before any request.
	m, err := iamkeys.New(srv.Client(), iamkeys.WithPageSize(500))
	fmt.Println(m != nil, err)

	_, err = iamkeys.New(srv.Client(), iamkeys.WithPageSize(5000))
	fmt.Println(errors.Is(err, iamkeys.ErrInvalidInput), err)
	// Output:
	// true <nil>
	// true iamkeys: New: invalid page size: must be from 1 to 1000, got 5000
}

func ExampleManager_EnsureUser() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	ctx := context.Background()

	for range 2 {
		u, err := m.EnsureUser(ctx, "S3UserReadOnlyAccess",
			iamkeys.WithInlinePolicy("S3ReadOnly", s3ReadOnly),
			iamkeys.WithTags(map[string]string{"team": "data"}))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.Name, u.ID, "created:", u.Created, "policy put:", u.PolicyChanged)
	}
	// Output:
	// S3UserReadOnlyAccess AIDAIAMKEYSTEST000002 created: true policy put: true
	// S3UserReadOnlyAccess AIDAIAMKEYSTEST000002 created: false policy put: false
}

func ExampleManager_CreateKey() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.AddUser("alice"); err != nil {
		log.Fatal(err)
	}

	for range 3 {
		k, err := m.CreateKey(ctx, "alice")
		if errors.Is(err, iamkeys.ErrLimitExceeded) {
			fmt.Println("third key refused: a user holds at most two")
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		// Store k.Secret.Reveal() now: IAM never returns it again.
		fmt.Println(k.ID, k.Status, k.Created.Format(time.RFC3339), k.Secret)
	}
	// Output:
	// AKIAIAMKEYSTEST00002 Active 2026-11-02T09:00:00Z [REDACTED]
	// AKIAIAMKEYSTEST00003 Active 2026-11-02T09:00:00Z [REDACTED]
	// third key refused: a user holds at most two
}

func ExampleManager_ListKeys() {
	m, srv, clk := exampleManager()
	defer srv.Close()
	if _, err := srv.AddUser("alice"); err != nil {
		log.Fatal(err)
	}
	if _, err := srv.AddKey("alice", "Inactive", clk.Now().AddDate(0, 0, -100)); err != nil {
		log.Fatal(err)
	}
	if _, err := srv.AddKey("alice", "Active", time.Time{}); err != nil {
		log.Fatal(err)
	}

	keys, err := m.ListKeys(context.Background(), "alice")
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Println(k.ID, k.Status, k.Created.Format(time.DateOnly))
	}
	// Output:
	// AKIAIAMKEYSTEST00002 Inactive 2026-07-25
	// AKIAIAMKEYSTEST00003 Active 2026-11-02
}

func ExampleManager_Keys() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	if _, err := srv.AddUser("alice"); err != nil {
		log.Fatal(err)
	}
	if _, err := srv.AddKey("alice", "Active", time.Time{}); err != nil {
		log.Fatal(err)
	}

	for k, err := range m.Keys(context.Background(), "alice") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(k.ID, k.Status)
	}
	// Output:
	// AKIAIAMKEYSTEST00002 Active
}

func ExampleManager_LastUsed() {
	m, srv, clk := exampleManager()
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.AddUser("alice"); err != nil {
		log.Fatal(err)
	}
	used, _ := srv.AddKey("alice", "Active", time.Time{})
	fresh, _ := srv.AddKey("alice", "Active", time.Time{})
	if err := srv.SetLastUsed(used.ID, clk.Now().Add(-time.Hour), "s3", "N/A"); err != nil {
		log.Fatal(err)
	}

	for _, id := range []string{used.ID, fresh.ID} {
		u, err := m.LastUsed(ctx, id)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s used=%v at=%s service=%q region=%q\n", id, u.Used, u.At.Format(time.RFC3339), u.Service, u.Region)
	}
	// Output:
	// AKIAIAMKEYSTEST00002 used=true at=2026-11-02T08:00:00Z service="s3" region=""
	// AKIAIAMKEYSTEST00003 used=false at=0001-01-01T00:00:00Z service="" region=""
}

func ExampleManager_SetStatus() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.AddUser("alice"); err != nil {
		log.Fatal(err)
	}
	k, _ := srv.AddKey("alice", "Active", time.Time{})

	fmt.Println(m.SetStatus(ctx, "alice", k.ID, iamkeys.StatusInactive))
	fmt.Println(srv.Keys("alice")[0].Status)
	// Anything but Active or Inactive is refused before a request is sent.
	err := m.SetStatus(ctx, "alice", k.ID, "Disabled")
	fmt.Println(errors.Is(err, iamkeys.ErrInvalidInput))
	// Output:
	// <nil>
	// Inactive
	// true
}

func ExampleManager_DeleteAll() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	if _, err := srv.AddUser("alice"); err != nil {
		log.Fatal(err)
	}
	_, _ = srv.AddKey("alice", "Active", time.Time{})
	_, _ = srv.AddKey("alice", "Inactive", time.Time{})

	deleted, err := m.DeleteAll(context.Background(), "alice")
	fmt.Println(deleted, err, len(srv.Keys("alice")))
	// Output:
	// [AKIAIAMKEYSTEST00002 AKIAIAMKEYSTEST00003] <nil> 0
}

func ExampleManager_DeleteUser() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	ctx := context.Background()
	if _, err := m.EnsureUser(ctx, "alice", iamkeys.WithInlinePolicy("S3ReadOnly", s3ReadOnly)); err != nil {
		log.Fatal(err)
	}
	if _, err := m.CreateKey(ctx, "alice"); err != nil {
		log.Fatal(err)
	}

	// Everything IAM requires gone goes first (here keys and the inline
	// policy), then the user.
	fmt.Println(m.DeleteUser(ctx, "alice"))
	_, exists := srv.User("alice")
	fmt.Println(exists)
	// Output:
	// <nil>
	// false
}

// Errors name the operation, user and key; errors.Is matches the sentinels,
// and errors.As still reaches the SDK's error.
func Example_errors() {
	m, srv, _ := exampleManager()
	defer srv.Close()

	_, err := m.CreateKey(context.Background(), "nobody")
	fmt.Println(errors.Is(err, iamkeys.ErrNotFound))

	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
	var nse *types.NoSuchEntityException
	fmt.Println(errors.As(err, &nse))

	var e *iamkeys.Error
	if errors.As(err, &e) {
		fmt.Println(e.Op, e.UserName)
	}
	// Output:
	// true
	// NoSuchEntity The user with name nobody cannot be found.
	// true
	// CreateKey nobody
}

func ExampleSecret() {
	s := iamkeys.NewSecret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	fmt.Println(s)
	fmt.Printf("%v %+v %#v %q %x\n", s, s, s, s, s)
	fmt.Println(len(s.Reveal()))
	// Output:
	// [REDACTED]
	// [REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED]
	// 40
}

func ExampleManager_DeleteKey() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	ctx := context.Background()
	if _, err := srv.AddUser("alice"); err != nil {
		log.Fatal(err)
	}
	k, _ := srv.AddKey("alice", "Inactive", time.Time{})

	fmt.Println(m.DeleteKey(ctx, "alice", k.ID))
	// IAM's delete is not idempotent: a second one is NoSuchEntity.
	err := m.DeleteKey(ctx, "alice", k.ID)
	fmt.Println(errors.Is(err, iamkeys.ErrNotFound))
	// Output:
	// <nil>
	// true
}

func ExampleManager_Users() {
	m, srv, _ := exampleManager()
	defer srv.Close()
	for _, name := range []string{"carol", "bob"} {
		if _, err := srv.AddUser(name); err != nil {
			log.Fatal(err)
		}
	}

	for u, err := range m.Users(context.Background()) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.Name, u.ARN)
	}
	// Unordered output:
	// admin arn:aws:iam::123456789012:user/admin
	// bob arn:aws:iam::123456789012:user/bob
	// carol arn:aws:iam::123456789012:user/carol
}

func ExampleNewFromConfig() {
	srv := iamkeystest.NewServer()
	defer srv.Close()

	// In production: cfg, err := config.LoadDefaultConfig(ctx).
	cfg := srv.Config()
	m, err := iamkeys.NewFromConfig(cfg, iamkeys.WithPageSize(1000))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := m.ListKeys(context.Background(), srv.AdminUserName())
	fmt.Println(len(keys), err)
	// Output:
	// 1 <nil>
}
