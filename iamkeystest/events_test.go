package iamkeystest_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestEvents checks the event log and hook against a run of every
// mutating action. It pins that a change answered by a dropped connection
// or a 500 (FailNextAmbiguous, like IAM's ambiguous failures) was applied
// and is reported, that a refused request (FailNext, a NoSuchEntity)
// reports none, and that a secret, which IAM returns only from
// CreateAccessKey, never appears in an event.
func TestEvents(t *testing.T) {
	var (
		mu     sync.Mutex
		hooked []iamkeystest.Event
		srv    *iamkeystest.Server
	)
	hook := func(e iamkeystest.Event) {
		srv.Keys("rita") // the hook may call the server: no lock is held
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, e)
	}
	s, c, clock := newServer(t, iamkeystest.WithEventLog(1000), iamkeystest.WithEventHook(hook))
	srv = s
	ctx := context.Background()
	step := func() { clock.Advance(time.Second) }

	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("rita"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	step()
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("rita"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("rita"), TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("rita"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("rita"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	step()
	created, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("rita")})
	if err != nil {
		t.Fatal(err)
	}
	k1 := *created.AccessKey.AccessKeyId
	s.FailNextAmbiguous("CreateAccessKey", 1, iamkeystest.DropConnection)
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("rita")}); err == nil {
		t.Fatal("dropped CreateAccessKey: no error")
	}
	k2 := s.Keys("rita")[1].ID
	// The hook ran before the connection was dropped.
	mu.Lock()
	if last := hooked[len(hooked)-1]; last.Action != "CreateAccessKey" || last.AccessKeyID != k2 {
		t.Errorf("last hooked event after the drop = %+v", last)
	}
	mu.Unlock()
	s.FailNextAmbiguous("UpdateAccessKey", 1, iamkeystest.InternalError)
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("rita"), AccessKeyId: aws.String(k1), Status: types.StatusTypeInactive})
	wantAPIError(t, err, "InternalFailure", 500)

	// Refused requests change nothing and make no event but the Use.
	s.FailNext("DeleteAccessKey", "ServiceFailure", 1)
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("rita"), AccessKeyId: aws.String(k1)})
	wantAPIError(t, err, "ServiceFailure", 500)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("nobody")})
	wantAPIError(t, err, "NoSuchEntity", 404)

	// rita signs an STS call with her second key: a Use with service sts.
	step()
	rita := sts.NewFromConfig(s.ConfigFor(k2, s.Keys("rita")[1].Secret))
	if _, err := rita.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{k1, k2} {
		if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("rita"), AccessKeyId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("rita")}); err != nil {
		t.Fatal(err)
	}

	events := s.Events()
	mu.Lock()
	defer mu.Unlock()
	if !reflect.DeepEqual(events, hooked) {
		t.Errorf("Events() and the hook differ:\n%v\n%v", events, hooked)
	}
	for i, e := range events {
		if e.Seq != i+1 || e.RequestID == "" {
			t.Errorf("event %d: Seq %d, RequestID %q", i, e.Seq, e.RequestID)
		}
	}

	admin := s.AdminCredentials().AccessKeyID
	var changes []string
	uses := map[string]int{}
	for _, e := range events {
		if e.Action == "Use" {
			uses[e.AccessKeyID+" "+e.Service+" "+e.UserName]++
			continue
		}
		changes = append(changes, fmt.Sprintf("%s %s %s %s %s %v %v %s", e.At.Format(time.TimeOnly), e.Action, e.UserName, e.AccessKeyID, e.Status, e.Tags, e.TagKeys, e.PolicyName))
	}
	want := []string{
		"03:04:05 CreateUser rita   map[team:a] [] ",
		"03:04:06 TagUser rita   map[k:v] [] ",
		"03:04:06 UntagUser rita   map[] [team absent] ",
		"03:04:06 PutUserPolicy rita   map[] [] p",
		"03:04:06 DeleteUserPolicy rita   map[] [] p",
		"03:04:07 CreateAccessKey rita " + k1 + " Active map[] [] ",
		"03:04:07 CreateAccessKey rita " + k2 + " Active map[] [] ",   // answered by a dropped connection
		"03:04:07 UpdateAccessKey rita " + k1 + " Inactive map[] [] ", // answered 500
		"03:04:08 DeleteAccessKey rita " + k1 + "  map[] [] ",
		"03:04:08 DeleteAccessKey rita " + k2 + "  map[] [] ",
		"03:04:08 DeleteUser rita   map[] [] ",
	}
	if !slices.Equal(changes, want) {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(changes, "\n"), strings.Join(want, "\n"))
	}
	// Every request that passed authentication is a Use, refused or not:
	// 13 signed by the admin, one by rita through STS.
	wantUses := map[string]int{admin + " iam admin": 13, k2 + " sts rita": 1}
	if !maps.Equal(uses, wantUses) {
		t.Errorf("uses = %v, want %v", uses, wantUses)
	}

	// The secrets never appear.
	dump := fmt.Sprintf("%+v", events)
	for _, secret := range []string{*created.AccessKey.SecretAccessKey, s.AdminCredentials().SecretAccessKey} {
		if strings.Contains(dump, secret) {
			t.Errorf("a secret appears in the events")
		}
	}

	// Events returns a copy. Event 1 is the admin's Use, 2 the CreateUser.
	events[1].Tags["team"] = "changed"
	if s.Events()[1].Tags["team"] != "a" {
		t.Error("changing the result of Events changed the log")
	}
}

// TestEventLogBounded: WithEventLog(n) keeps the n latest events; Seq keeps
// counting, and without the option there is no log.
func TestEventLogBounded(t *testing.T) {
	s, c, _ := newServer(t, iamkeystest.WithEventLog(3))
	ctx := context.Background()
	for i := range 4 {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprint("u", i))}); err != nil {
			t.Fatal(err)
		}
	}
	// Each CreateUser is a Use and a CreateUser: 8 events.
	var got []string
	for _, e := range s.Events() {
		got = append(got, fmt.Sprint(e.Seq, e.Action, e.UserName))
	}
	if want := []string{"6CreateUseru2", "7Useadmin", "8CreateUseru3"}; !slices.Equal(got, want) {
		t.Errorf("Events() = %v, want %v", got, want)
	}

	off, c2, _ := newServer(t)
	if _, err := c2.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if e := off.Events(); e != nil {
		t.Errorf("no log: Events() = %v", e)
	}
}

// TestEventsConcurrent: under concurrent requests the hook may run on
// several goroutines at once, and every event arrives exactly once with a
// distinct Seq.
func TestEventsConcurrent(t *testing.T) {
	var (
		mu   sync.Mutex
		seqs = map[int]bool{}
	)
	s, c, _ := newServer(t, iamkeystest.WithEventLog(10), iamkeystest.WithEventHook(func(e iamkeystest.Event) {
		mu.Lock()
		defer mu.Unlock()
		seqs[e.Seq] = true
	}))
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(fmt.Sprint("c", i))}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i <= 2*n; i++ { // a Use and a CreateUser each
		if !seqs[i] {
			t.Errorf("event %d never reached the hook (got %d events)", i, len(seqs))
		}
	}
	if e := s.Events(); len(e) != 10 || e[9].Seq != 2*n {
		t.Errorf("Events() holds %d, the last Seq %d", len(e), e[len(e)-1].Seq)
	}
}
