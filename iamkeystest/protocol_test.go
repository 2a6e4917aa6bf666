package iamkeystest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// signedDo sends a request signed as the admin with the SDK's signer.
func signedDo(t *testing.T, s *iamkeystest.Server, method, query, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+"/?"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return doSigned(t, req, body, s.AdminCredentials(), "iam", time.Now())
}

// signedJSON sends a JSON 1.1 request for target ("<prefix>.<Op>") with
// body as given, bypassing the SDK's own checks, signed for service with
// creds at time at, and returns the answer.
func signedJSON(t *testing.T, url string, creds aws.Credentials, service, target, body string, at time.Time) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	return doSigned(t, req, body, creds, service, at)
}

// doSigned signs req, whose body is body, for service in iamkeystest.Region
// with the SDK's signer, sends it and returns the answer with its body read.
func doSigned(t *testing.T, req *http.Request, body string, creds aws.Credentials, service string, at time.Time) (*http.Response, string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, iamkeystest.Region, at); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestQueryStringRequest(t *testing.T) {
	// docs/iam-reference.md §1.1: form values are accepted from the URL query too.
	s, _, _ := newServer(t)
	resp, body := signedDo(t, s, http.MethodGet, "Action=ListUsers&Version=2010-05-08", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET ListUsers: %d %s", resp.StatusCode, body)
	}
	// docs/iam-reference.md §1.2: envelope, namespace, request ID in header and body.
	var env struct {
		XMLName xml.Name
		Result  struct {
			Users       []string `xml:"Users>member>UserName"`
			IsTruncated string
			Marker      *string
		} `xml:"ListUsersResult"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	if env.XMLName.Local != "ListUsersResponse" || env.XMLName.Space != "https://iam.amazonaws.com/doc/2010-05-08/" ||
		env.RequestID == "" || env.RequestID != resp.Header.Get("x-amzn-RequestId") ||
		resp.Header.Get("Content-Type") != "text/xml" || env.Result.IsTruncated != "false" || env.Result.Marker != nil ||
		len(env.Result.Users) != 1 {
		t.Errorf("envelope: %s", body)
	}
}

func TestInvalidAction(t *testing.T) {
	s, _, _ := newServer(t)
	for _, q := range []string{"Action=MakeCoffee&Version=2010-05-08", "Action=ListUsers&Version=2006-01-02"} {
		resp, body := signedDo(t, s, http.MethodPost, "", q)
		// docs/iam-reference.md §1.4: unknown Action → InvalidAction 400.
		if resp.StatusCode != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") || !strings.Contains(body, "<Type>Sender</Type>") {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	if n := s.Calls("MakeCoffee"); n != 1 {
		t.Errorf("Calls(MakeCoffee) = %d", n)
	}
}

func TestNewServerOn(t *testing.T) {
	s, err := iamkeystest.NewServerOn("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, "/") {
		t.Errorf("URL = %q", s.URL)
	}
	if _, err := iamkeystest.NewServerOn("256.0.0.1:0"); err == nil {
		t.Error("bad address: no error")
	}
	if s.AccountID() != "123456789012" || s.AdminUserName() != "admin" || *s.Config().BaseEndpoint != s.URL {
		t.Error("defaults")
	}
}
