package iamkeystest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

func TestAuthentication(t *testing.T) {
	s, c, _ := newServer(t)
	ctx := context.Background()
	mustUser(t, s, "lena")
	k := mustKey(t, s, "lena")
	inactive, err := s.AddKey("lena", "Inactive", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id, secret string
		code             string
	}{
		// docs/iam-reference.md §1.4: wrong secret → SignatureDoesNotMatch 403.
		{"wrong secret", k.ID, strings.Repeat("x", 40), "SignatureDoesNotMatch"},
		// docs/iam-reference.md §1.4: unknown or inactive key → InvalidClientTokenId 403.
		{"unknown key", "AKIAIOSFODNN7EXAMPLE", k.Secret, "InvalidClientTokenId"},
		{"inactive key", inactive.ID, inactive.Secret, "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := iam.NewFromConfig(s.ConfigFor(tt.id, tt.secret), noRetry)
			_, err := cl.ListUsers(ctx, &iam.ListUsersInput{})
			ae := wantAPIError(t, err, tt.code, 403)
			if tt.code == "InvalidClientTokenId" && ae.ErrorMessage() != "The security token included in the request is invalid." {
				t.Errorf("message %q", ae.ErrorMessage())
			}
		})
	}
	if info, _ := s.Key(inactive.ID); !info.LastUsed.IsZero() {
		t.Error("a rejected request recorded last use")
	}
	// Deactivating a key over the API locks it out at once.
	lena := iam.NewFromConfig(s.ConfigFor(k.ID, k.Secret), noRetry)
	if _, err := lena.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("lena"), AccessKeyId: aws.String(k.ID), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = lena.GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
}

func TestUnsignedAndUnknownAction(t *testing.T) {
	s, _, _ := newServer(t)
	resp, err := http.Post(s.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=ListUsers&Version=2010-05-08"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>MissingAuthenticationToken</Code>") ||
		resp.Header.Get("Content-Type") != "text/xml" || resp.Header.Get("x-amzn-RequestId") == "" ||
		!strings.Contains(string(body), "<RequestId>"+resp.Header.Get("x-amzn-RequestId")+"</RequestId>") {
		t.Errorf("unsigned: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func TestPropagationDelay(t *testing.T) {
	s, c, clock := newServer(t, iamkeystest.WithPropagationDelay(10*time.Second))
	ctx := context.Background()
	// The bootstrap admin key is usable at once.
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mia")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("mia")})
	if err != nil {
		t.Fatal(err)
	}
	mia := iam.NewFromConfig(s.ConfigFor(*out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey), noRetry)
	_, err = mia.GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
	clock.Advance(9 * time.Second)
	_, err = mia.GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, err, "InvalidClientTokenId", 403)
	if err := clock.Sleep(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := mia.GetUser(ctx, &iam.GetUserInput{}); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
}

func TestGetCallerIdentity(t *testing.T) {
	s, _, _ := newServer(t, iamkeystest.WithAccountID("210987654321"))
	u := mustUser(t, s, "nora")
	k := mustKey(t, s, "nora")
	out, err := sts.NewFromConfig(s.ConfigFor(k.ID, k.Secret)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Arn != "arn:aws:iam::210987654321:user/nora" || *out.UserId != u.ID || *out.Account != "210987654321" {
		t.Errorf("GetCallerIdentity = %s %s %s", *out.Arn, *out.UserId, *out.Account)
	}
	if n := s.Calls("GetCallerIdentity"); n != 1 {
		t.Errorf("Calls = %d", n)
	}
	if info, _ := s.Key(k.ID); info.LastService != "sts" || info.LastRegion != "us-east-1" {
		t.Errorf("last use = %+v", info)
	}
	_, err = sts.NewFromConfig(s.ConfigFor(k.ID, strings.Repeat("y", 40)), func(o *sts.Options) { o.Retryer = lostAnswers() }).
		GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", 403)
}

// TestSignatureCoversTheBody: a request signed for one body and sent with
// another is refused, whether or not it declares the signed payload's hash
// in X-Amz-Content-Sha256, and nothing is applied.
func TestSignatureCoversTheBody(t *testing.T) {
	s, _, _ := newServer(t)
	mustUser(t, s, "victim")
	admin := s.AdminCredentials()
	signed := "Action=ListUsers&Version=2010-05-08"
	sent := "Action=DeleteUser&UserName=victim&Version=2010-05-08"
	sum := sha256.Sum256([]byte(signed))
	hash := hex.EncodeToString(sum[:])
	for _, declare := range []bool{true, false} {
		req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(sent))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if declare {
			req.Header.Set("X-Amz-Content-Sha256", hash)
		}
		if err := v4.NewSigner().SignHTTP(context.Background(), admin, req, hash, "iam", iamkeystest.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("declared hash %v: status %d, body %s; want 403 SignatureDoesNotMatch", declare, resp.StatusCode, body)
		}
		if _, ok := s.User("victim"); !ok {
			t.Fatalf("declared hash %v: the unsigned body was applied", declare)
		}
	}
}
