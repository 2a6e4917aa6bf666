package iamkeystest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// listNames walks ListUsers with the SDK paginator at page size max and
// returns the names in the order listed. Between pages it calls between.
func listNames(t *testing.T, c *iam.Client, in *iam.ListUsersInput, between func()) []string {
	t.Helper()
	p := iam.NewListUsersPaginator(c, in, func(o *iam.ListUsersPaginatorOptions) { o.StopOnDuplicateToken = true })
	var names []string
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			names = append(names, aws.ToString(u.UserName))
		}
		if between != nil {
			between()
		}
	}
	return names
}

// TestListUsersOrder pins the fake's listing order, kept by its index:
// users come back ascending by lower-cased name (IAM's ListUsers pages in a
// stable order; the fake has always used this one) whatever order they
// were created in, across pages of any size; deleted users disappear and a
// user re-created under a deleted name appears once; users created and
// deleted between pages neither repeat nor hide the others, since a marker
// names the first user of the next page.
func TestListUsersOrder(t *testing.T) {
	s, c, _ := newServer(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var want []string
	for i := range 300 {
		name := fmt.Sprintf("u%d", i)
		if i%3 == 0 {
			name = strings.ToUpper(name)
		}
		want = append(want, name)
	}
	rng.Shuffle(len(want), func(i, j int) { want[i], want[j] = want[j], want[i] })
	for _, n := range want {
		mustUser(t, s, n)
	}
	want = append(want, "admin")
	byKey := func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }
	slices.SortFunc(want, byKey)
	if got := s.Users(); len(got) != len(want) || got[0].Name != want[0] {
		t.Fatalf("Users() has %d users, first %v; want %d, first %s", len(got), got[0].Name, len(want), want[0])
	}
	for _, max := range []int32{1, 7, 100, 1000} {
		if got := listNames(t, c, &iam.ListUsersInput{MaxItems: aws.Int32(max)}, nil); !slices.Equal(got, want) {
			t.Fatalf("MaxItems %d lists %d users %v..., want %d %v...", max, len(got), got[:min(5, len(got))], len(want), want[:5])
		}
	}

	// Delete two thirds (many dead entries), re-create some under another case.
	ctx := context.Background()
	var kept []string
	for i, n := range want {
		if n == "admin" || i%3 == 0 {
			kept = append(kept, n)
			continue
		}
		if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
		if i%9 == 1 {
			swapped := strings.ToUpper(n)
			if swapped == n {
				swapped = strings.ToLower(n)
			}
			mustUser(t, s, swapped)
			kept = append(kept, swapped)
		}
	}
	slices.SortFunc(kept, byKey)
	if got := listNames(t, c, &iam.ListUsersInput{MaxItems: aws.Int32(10)}, nil); !slices.Equal(got, kept) {
		t.Fatalf("after deletes: %d users %v, want %d %v", len(got), got, len(kept), kept)
	}

	// Changes between pages: users before the marker and after it come and
	// go; every user present throughout is listed exactly once, in order.
	var step int
	churn := func() {
		step++
		mustUser(t, s, fmt.Sprintf("a-early-%d", step)) // sorts before every page
		mustUser(t, s, fmt.Sprintf("zz-late-%d", step)) // sorts after every page
		if step == 2 {
			if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("zz-late-1")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := listNames(t, c, &iam.ListUsersInput{MaxItems: aws.Int32(25)}, churn)
	var stable []string
	for _, n := range got {
		if !strings.HasPrefix(n, "a-early-") && !strings.HasPrefix(n, "zz-late-") {
			stable = append(stable, n)
		}
	}
	if !slices.Equal(stable, kept) || !slices.IsSortedFunc(got, byKey) {
		t.Errorf("listing under churn: %v", got)
	}
	if slices.Contains(got, "zz-late-1") || !slices.Contains(got, "zz-late-2") {
		t.Errorf("listing under churn: deleted zz-late-1 listed or zz-late-2 missing: %v", got[len(got)-5:])
	}
}

// TestListUsersPathPrefix pins PathPrefix on a paged listing: IAM's
// PathPrefix is a raw string prefix of the path (the reference's "easy to
// miss" list; ListUsers in https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListUsers.html),
// so "/eng" matches "/eng/" and "/engine/" and "/" matches everyone.
func TestListUsersPathPrefix(t *testing.T) {
	s, c, _ := newServer(t)
	paths := map[string]string{"ann": "/eng/", "bob": "/eng/ci/", "cat": "/engine/", "dan": "/ops/", "eve": "/"}
	for name, path := range paths {
		u, err := s.AddUserWithPath(name, path)
		if err != nil {
			t.Fatal(err)
		}
		if u.Path != path || u.ARN != "arn:aws:iam::123456789012:user"+path+name {
			t.Errorf("AddUserWithPath(%s, %s) = %+v", name, path, u)
		}
	}
	for prefix, want := range map[string][]string{
		"/eng/":    {"ann", "bob"},
		"/eng":     {"ann", "bob", "cat"},
		"/eng/ci/": {"bob"},
		"/ops/":    {"dan"},
		"/":        {"admin", "ann", "bob", "cat", "dan", "eve"},
		"/nope/":   nil,
	} {
		if got := listNames(t, c, &iam.ListUsersInput{PathPrefix: aws.String(prefix), MaxItems: aws.Int32(1)}, nil); !slices.Equal(got, want) {
			t.Errorf("PathPrefix %q lists %v, want %v", prefix, got, want)
		}
	}
	if _, err := s.AddUserWithPath("fay", "eng/"); err == nil {
		t.Error("AddUserWithPath accepted a path without a leading /")
	}
}
