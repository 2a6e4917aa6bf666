package iamkeystest_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestSSMSecureString: a SecureString gets the default key alias/aws/ssm;
// without WithDecryption its Value is ciphertext, never the plaintext; with
// it, the plaintext (SSM: §6.2 "SecureString"). Timestamps are epoch
// numbers the SDK decodes (§1.2).
func TestSSMSecureString(t *testing.T) {
	ctx := context.Background()
	s, c, clock := newSSM(t)
	const secret = "p@ss-word-1"
	out := put(t, c, &ssm.PutParameterInput{Name: aws.String("/app/db/password"), Value: aws.String(secret), Type: types.ParameterTypeSecureString})
	if out.Version != 1 || out.Tier != types.ParameterTierStandard {
		t.Fatalf("PutParameter = version %d tier %q, want 1 Standard", out.Version, out.Tier)
	}

	enc, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/db/password")})
	if err != nil {
		t.Fatal(err)
	}
	p := enc.Parameter
	if v := aws.ToString(p.Value); v == "" || strings.Contains(v, secret) {
		t.Errorf("value without decryption is empty or shows the plaintext")
	}
	if got, want := aws.ToString(p.ARN), "arn:aws:ssm:us-east-1:"+s.AccountID()+":parameter/app/db/password"; got != want {
		t.Errorf("ARN = %s, want %s (no double slash)", got, want)
	}
	if p.Type != types.ParameterTypeSecureString || p.Version != 1 || aws.ToString(p.DataType) != "text" {
		t.Errorf("parameter = %s v%d %s", p.Type, p.Version, aws.ToString(p.DataType))
	}
	if p.LastModifiedDate == nil || !p.LastModifiedDate.Equal(clock.Now()) {
		t.Errorf("LastModifiedDate = %v, want %v", p.LastModifiedDate, clock.Now())
	}
	if got := get(t, c, "/app/db/password"); aws.ToString(got.Value) != secret {
		t.Errorf("decrypted value differs from the plaintext")
	}

	h := history(t, c, "/app/db/password", 50)
	if len(h) != 1 || aws.ToString(h[0].KeyId) != "alias/aws/ssm" || !strings.HasSuffix(aws.ToString(h[0].LastModifiedUser), ":user/admin") {
		t.Fatalf("history = %+v, want one version with key alias/aws/ssm by admin", h)
	}
	if strings.Contains(aws.ToString(h[0].Value), secret) {
		t.Errorf("history without decryption shows the plaintext")
	}

	// A custom key; a String ignores WithDecryption; KeyId needs SecureString.
	put(t, c, &ssm.PutParameterInput{Name: aws.String("/app/db/password"), Value: aws.String("second"), KeyId: aws.String("alias/app"), Overwrite: aws.Bool(true)})
	if h := history(t, c, "/app/db/password", 50); aws.ToString(h[1].KeyId) != "alias/app" || h[1].Type != types.ParameterTypeSecureString {
		t.Errorf("overwrite without Type: %+v, want the type kept and the new key", h[1])
	}
	putString(t, c, "plain", "hello")
	if p, _ := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("plain")}); aws.ToString(p.Parameter.Value) != "hello" ||
		aws.ToString(p.Parameter.ARN) != "arn:aws:ssm:us-east-1:"+s.AccountID()+":parameter/plain" {
		t.Errorf("String parameter = %+v", p.Parameter)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("plain"), Value: aws.String("x"), KeyId: aws.String("alias/app"), Overwrite: aws.Bool(true)})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
}

// TestSSMOverwrite: creating an existing name without Overwrite is
// ParameterAlreadyExists with AWS's text; a create needs a Type; Overwrite
// and Tags together are refused; every overwrite adds a version (§6.2).
func TestSSMOverwrite(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newSSM(t)
	put(t, c, &ssm.PutParameterInput{Name: aws.String("/x"), Value: aws.String("1"), Type: types.ParameterTypeString,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("keys")}}})

	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/x"), Value: aws.String("2"), Type: types.ParameterTypeString})
	e := wantSSMError[*types.ParameterAlreadyExists](t, err)
	if e.ErrorMessage() != "The parameter already exists. To overwrite this value, set the overwrite option in the request to true." {
		t.Errorf("message = %q", e.ErrorMessage())
	}
	for i, want := range []int64{2, 3} {
		if v := putString(t, c, "/x", "1"); v != want { // the same value still adds a version (◐)
			t.Errorf("overwrite %d: version %d, want %d", i, v, want)
		}
	}

	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/new"), Value: aws.String("v")})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/x"), Value: aws.String("v"), Overwrite: aws.Bool(true),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	ae := wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
	if !strings.Contains(ae.ErrorMessage(), "tags and overwrite can't be used together") {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/x"), Value: aws.String(""), Overwrite: aws.Bool(true)})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
}

// TestSSMNames: names are case-sensitive, made of a-zA-Z0-9_.-/, not
// prefixed aws or ssm, at most 15 levels (§6.1).
func TestSSMNames(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newSSM(t)
	deep := strings.Repeat("/l", 15)
	for _, tc := range []struct {
		name string
		code string // "" for accepted
	}{
		{"simple", ""},
		{"/a/b.c-d_e", ""},
		{deep, ""},
		{deep + "/x", "HierarchyLevelLimitExceededException"},
		{"awsthing", "ValidationException"},
		{"/aws/x", "ValidationException"},
		{"/SSM/x", "ValidationException"},
		{"Ssm-x", "ValidationException"},
		{"has space", "ValidationException"},
		{"a/b", "ValidationException"},
		{"/a//b", "ValidationException"},
		{"/a/", "ValidationException"},
		{"/a:1", "ValidationException"},
		{"/" + strings.Repeat("n", 1000), "ValidationException"}, // over 1011 with the ARN's leading part
	} {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(tc.name), Value: aws.String("v"), Type: types.ParameterTypeString})
		if tc.code == "" {
			if err != nil {
				t.Errorf("%.40s: %v", tc.name, err)
			}
			continue
		}
		wantAPIError(t, err, tc.code, http.StatusBadRequest)
	}
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("SIMPLE")}); err == nil {
		t.Errorf("names are case-sensitive, yet SIMPLE found simple")
	}
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(deep + "/x"), Value: aws.String("v"), Type: types.ParameterTypeString})
	wantSSMError[*types.HierarchyLevelLimitExceededException](t, err)
}

// TestSSMValueLimits: Standard holds 4096 characters, Advanced 8192;
// Intelligent-Tiering picks the tier the value needs; a parameter never
// goes back from Advanced (§6.1). No error shows the value.
func TestSSMValueLimits(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newSSM(t)
	marker := "SECRETMARKER"
	long := func(n int) *string { return aws.String(marker + strings.Repeat("v", n-len(marker))) }
	put(t, c, &ssm.PutParameterInput{Name: aws.String("s"), Value: long(4096), Type: types.ParameterTypeSecureString})
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("s"), Value: long(4097), Overwrite: aws.Bool(true)})
	ae := wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
	if !strings.HasPrefix(ae.ErrorMessage(), "Standard tier parameters support a maximum parameter value of 4096 characters.") || strings.Contains(err.Error(), marker) {
		t.Errorf("message = %q", ae.ErrorMessage())
	}
	out := put(t, c, &ssm.PutParameterInput{Name: aws.String("s"), Value: long(5000), Overwrite: aws.Bool(true), Tier: types.ParameterTierIntelligentTiering})
	if out.Tier != types.ParameterTierAdvanced {
		t.Errorf("Intelligent-Tiering with 5000 characters: tier %q, want Advanced", out.Tier)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("s"), Value: long(8193), Overwrite: aws.Bool(true)})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("s"), Value: aws.String("short"), Overwrite: aws.Bool(true), Tier: types.ParameterTierStandard})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
	if out := put(t, c, &ssm.PutParameterInput{Name: aws.String("s"), Value: long(8192), Overwrite: aws.Bool(true)}); out.Tier != types.ParameterTierAdvanced || out.Version != 3 {
		t.Errorf("overwrite without Tier: %q v%d, want the Advanced tier kept, version 3", out.Tier, out.Version)
	}
}

// TestSSMSelectors: GetParameter takes "name:version" and "name:label"
// and says which in Selector; a missing version is ParameterVersionNotFound
// with no fallback; a missing name is ParameterNotFound with no message
// (§6.2, §6.3). GetParameters returns the unresolvable in InvalidParameters.
func TestSSMSelectors(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSSM(t)
	for i := 1; i <= 3; i++ {
		putString(t, c, "/cfg", fmt.Sprint("value-", i))
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/cfg"), ParameterVersion: aws.Int64(2), Labels: []string{"prod"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, value, selector string }{
		{"/cfg", "value-3", ""},
		{"/cfg:1", "value-1", ":1"},
		{"/cfg:prod", "value-2", ":prod"},
		{"arn:aws:ssm:us-east-1:" + s.AccountID() + ":parameter/cfg:2", "value-2", ":2"},
	} {
		p := get(t, c, tc.ref)
		if aws.ToString(p.Value) != tc.value || aws.ToString(p.Selector) != tc.selector || aws.ToString(p.Name) != "/cfg" {
			t.Errorf("%s: value %q selector %q name %q, want %q %q /cfg", tc.ref, aws.ToString(p.Value), aws.ToString(p.Selector), aws.ToString(p.Name), tc.value, tc.selector)
		}
	}
	_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cfg:9")})
	if e := wantSSMError[*types.ParameterVersionNotFound](t, err); !strings.Contains(e.ErrorMessage(), "version 9 of /cfg") {
		t.Errorf("message = %q", e.ErrorMessage())
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cfg:nolabel")})
	wantSSMError[*types.ParameterVersionNotFound](t, err)
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/missing")})
	if e := wantSSMError[*types.ParameterNotFound](t, err); e.ErrorMessage() != "" {
		t.Errorf("ParameterNotFound carries %q, want no message", e.ErrorMessage())
	}
	wantAPIError(t, err, "ParameterNotFound", http.StatusBadRequest)

	out, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/cfg:prod", "/missing", "/cfg:7", "/cfg"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Parameters) != 2 || !slices.Equal(out.InvalidParameters, []string{"/missing", "/cfg:7"}) {
		t.Errorf("GetParameters = %d parameters, invalid %v", len(out.Parameters), out.InvalidParameters)
	}
	_, err = c.GetParameters(ctx, &ssm.GetParametersInput{Names: slices.Repeat([]string{"/cfg"}, 11)})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
}

// TestSSMHistory: GetParameterHistory returns the retained versions oldest
// first, in pages of at most 50 with NextToken; the window keeps the 100
// newest versions (§6.1, §6.2).
func TestSSMHistory(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newSSM(t)
	for range 105 {
		putString(t, c, "/h", "v")
	}
	h := history(t, c, "/h", 50)
	if len(h) != 100 || h[0].Version != 6 || h[99].Version != 105 {
		t.Fatalf("history has %d versions, %d..%d; want 100, 6..105", len(h), h[0].Version, h[len(h)-1].Version)
	}
	if h := history(t, c, "/h", 7); len(h) != 100 {
		t.Fatalf("history by 7 has %d versions", len(h))
	}
	first, err := c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h")})
	if err != nil || len(first.Parameters) != 50 || first.NextToken == nil {
		t.Fatalf("default page: %d versions, token %v, %v", len(first.Parameters), first.NextToken, err)
	}
	_, err = c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h"), MaxResults: aws.Int32(51)})
	wantAPIError(t, err, "ValidationException", http.StatusBadRequest)
	_, err = c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/h"), NextToken: aws.String("bogus")})
	wantAPIError(t, err, "InvalidNextToken", http.StatusBadRequest)
	_, err = c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/none")})
	wantSSMError[*types.ParameterNotFound](t, err)
}

// TestSSMLabels: LabelParameterVersion labels the latest version by
// default; a label is on one version only and moves; bad labels come back
// in InvalidLabels, not as an error; a version holds at most 10 labels
// (§6.2). UnlabelParameterVersion reports what it removed.
func TestSSMLabels(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newSSM(t)
	putString(t, c, "/l", "a")
	putString(t, c, "/l", "b")
	label := func(version *int64, labels ...string) *ssm.LabelParameterVersionOutput {
		t.Helper()
		out, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: version, Labels: labels})
		if err != nil {
			t.Fatalf("LabelParameterVersion %v: %v", labels, err)
		}
		return out
	}
	out := label(nil, "current", "1bad", "awsx", "SSM_y", "bad label", "ok.v-1_x")
	if out.ParameterVersion != 2 || !slices.Equal(out.InvalidLabels, []string{"1bad", "awsx", "SSM_y", "bad label"}) {
		t.Fatalf("label = v%d invalid %v", out.ParameterVersion, out.InvalidLabels)
	}
	label(aws.Int64(1), "current")
	labels := func() map[int64][]string {
		m := map[int64][]string{}
		for _, v := range history(t, c, "/l", 50) {
			m[v.Version] = v.Labels
		}
		return m
	}
	if got := labels(); !slices.Equal(got[1], []string{"current"}) || !slices.Equal(got[2], []string{"ok.v-1_x"}) {
		t.Fatalf("after moving current to v1: %v", got)
	}

	label(aws.Int64(1), "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9") // 10 with current
	_, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(1), Labels: []string{"l10"}})
	wantSSMError[*types.ParameterVersionLabelLimitExceeded](t, err)
	label(aws.Int64(1), "l1") // already there: no change, no error
	_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(7), Labels: []string{"x"}})
	wantSSMError[*types.ParameterVersionNotFound](t, err)
	_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/none"), Labels: []string{"x"}})
	wantSSMError[*types.ParameterNotFound](t, err)

	un, err := c.UnlabelParameterVersion(ctx, &ssm.UnlabelParameterVersionInput{Name: aws.String("/l"), ParameterVersion: aws.Int64(1), Labels: []string{"l1", "nothere"}})
	if err != nil || !slices.Equal(un.RemovedLabels, []string{"l1"}) || !slices.Equal(un.InvalidLabels, []string{"nothere"}) {
		t.Fatalf("unlabel = %+v, %v", un, err)
	}
}

// TestSSMVersionLimit: when the window is full the oldest version is
// dropped, unless it has a label: then ParameterMaxVersionLimitExceeded
// with AWS's text, until the label moves (§6.1; the limit is 3 here).
func TestSSMVersionLimit(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newSSM(t, iamkeystest.WithParameterVersionLimit(3))
	for range 4 {
		putString(t, c, "/w", "v")
	}
	if h := history(t, c, "/w", 50); len(h) != 3 || h[0].Version != 2 {
		t.Fatalf("history = %d versions from %d, want 3 from 2", len(h), h[0].Version)
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/w"), ParameterVersion: aws.Int64(2), Labels: []string{"keep"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/w"), Value: aws.String("v"), Overwrite: aws.Bool(true)})
	e := wantSSMError[*types.ParameterMaxVersionLimitExceeded](t, err)
	want := "You attempted to create a new version of /w by calling the PutParameter API with the overwrite flag. Version 2, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."
	if e.ErrorMessage() != want {
		t.Errorf("message = %q", e.ErrorMessage())
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/w"), Labels: []string{"keep"}}); err != nil {
		t.Fatal(err)
	}
	if v := putString(t, c, "/w", "v"); v != 5 {
		t.Fatalf("put after moving the label: version %d, want 5", v)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/w:2")})
	wantSSMError[*types.ParameterVersionNotFound](t, err)
}

// TestSSMDeleteAndDescribe: DeleteParameter removes every version; a
// second delete is ParameterNotFound. DescribeParameters lists by name.
func TestSSMDeleteAndDescribe(t *testing.T) {
	ctx := context.Background()
	_, c, _ := newSSM(t)
	putString(t, c, "/d/a", "1")
	putString(t, c, "/d/a", "2")
	putString(t, c, "/d/b", "1")
	putString(t, c, "/e", "1")
	d, err := c.DescribeParameters(ctx, &ssm.DescribeParametersInput{
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"/d/"}}},
	})
	if err != nil || len(d.Parameters) != 2 || aws.ToString(d.Parameters[0].Name) != "/d/a" || d.Parameters[0].Version != 2 {
		t.Fatalf("DescribeParameters = %+v, %v", d, err)
	}
	var all []string
	p := ssm.NewDescribeParametersPaginator(c, &ssm.DescribeParametersInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Parameters {
			all = append(all, aws.ToString(m.Name))
		}
	}
	if !slices.Equal(all, []string{"/d/a", "/d/b", "/e"}) {
		t.Errorf("paged DescribeParameters = %v", all)
	}

	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/d/a")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/d/a:1")})
	wantSSMError[*types.ParameterNotFound](t, err)
	_, err = c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/d/a")})
	wantSSMError[*types.ParameterNotFound](t, err)
	if v := putString(t, c, "/d/a", "again"); v != 1 {
		t.Errorf("re-created parameter starts at version %d, want 1", v)
	}
}

// TestSSMFaults: the Go SDK does not retry TooManyUpdates (one attempt),
// which carries no message; it retries ThrottlingException; an ambiguous
// fault applies the write and then fails; an unknown key is
// UnrecognizedClientException (§1.4, §1.5, §6.3).
func TestSSMFaults(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newSSM(t)
	c := ssm.NewFromConfig(s.Config(), ssmFastRetry)
	in := &ssm.PutParameterInput{Name: aws.String("/f"), Value: aws.String("v"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)}

	s.FailNext("PutParameter", "TooManyUpdates", 1)
	s.ResetCalls()
	_, err := c.PutParameter(ctx, in)
	if e := wantSSMError[*types.TooManyUpdates](t, err); e.ErrorMessage() != "" {
		t.Errorf("TooManyUpdates carries %q, want no message", e.ErrorMessage())
	}
	if n := s.Calls("PutParameter"); n != 1 {
		t.Errorf("TooManyUpdates: %d attempts, want 1 (the SDK does not retry it)", n)
	}

	s.FailNext("PutParameter", "ThrottlingException", 2)
	s.ResetCalls()
	if _, err := c.PutParameter(ctx, in); err != nil {
		t.Fatalf("throttled twice, then: %v", err)
	}
	if n := s.Calls("PutParameter"); n != 3 {
		t.Errorf("ThrottlingException: %d attempts, want 3", n)
	}

	s.FailNext("GetParameter", "AccessDeniedException", 1)
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/f")})
	if e := wantSSMError[*types.AccessDeniedException](t, err); !strings.Contains(e.ErrorMessage(), "is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:") {
		t.Errorf("message = %q", e.ErrorMessage())
	}

	nc := ssm.NewFromConfig(s.Config(), ssmNoRetry)
	s.FailNextAmbiguous("PutParameter", 1, iamkeystest.InternalError)
	_, err = nc.PutParameter(ctx, in)
	wantAPIError(t, err, "InternalServerError", http.StatusInternalServerError)
	if p := get(t, nc, "/f"); p.Version != 2 {
		t.Errorf("after an ambiguous failure the parameter is at version %d, want 2 (applied)", p.Version)
	}
	s.FailNextAmbiguous("PutParameter", 1, iamkeystest.DropConnection)
	if _, err = nc.PutParameter(ctx, in); err == nil {
		t.Fatal("a dropped connection returned no error")
	}
	if p := get(t, nc, "/f"); p.Version != 3 {
		t.Errorf("after a dropped connection the parameter is at version %d, want 3", p.Version)
	}

	bad := ssm.NewFromConfig(s.ConfigFor("AKIAIOSFODNN7EXAMPLE", "wrong"), ssmNoRetry)
	_, err = bad.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/f")})
	wantAPIError(t, err, "UnrecognizedClientException", http.StatusBadRequest)
}

// TestSSMLastModified: each version keeps its own time on the server clock.
func TestSSMLastModified(t *testing.T) {
	_, c, clock := newSSM(t)
	putString(t, c, "/t", "1")
	clock.Advance(90 * time.Minute)
	putString(t, c, "/t", "2")
	h := history(t, c, "/t", 50)
	if d := h[1].LastModifiedDate.Sub(*h[0].LastModifiedDate); d != 90*time.Minute {
		t.Errorf("versions %v apart, want 1h30m", d)
	}
}
