package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

func TestRunInMemory(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, false, "", "S3UserReadOnlyAccess", false); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"created=true", "created key AKIA", "secret [REDACTED]", "last used: never used", "is now Inactive", "is now Active", "deleted user S3UserReadOnlyAccess"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunAgainstEndpoint(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	creds := srv.AdminCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

	var out bytes.Buffer
	if err := run(context.Background(), &out, false, srv.URL, "someone", false); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if _, ok := srv.User("someone"); ok {
		t.Errorf("the user was not cleaned up")
	}
	if srv.Calls("CreateAccessKey") != 1 {
		t.Errorf("CreateAccessKey calls = %d", srv.Calls("CreateAccessKey"))
	}
}

func TestRunFailsClearly(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), &out, false, "", "not a valid name", false)
	if err == nil || !strings.Contains(err.Error(), "ensure user") || !strings.Contains(err.Error(), "user name") {
		t.Fatalf("err = %v", err)
	}
}
