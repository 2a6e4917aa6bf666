package iamkeystest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// ssmRaw sends a signed JSON 1.1 request for op with body, bypassing the
// SDK's own checks, and returns the answer.
func ssmRaw(t *testing.T, s *iamkeystest.Server, op, body string) (*http.Response, string) {
	t.Helper()
	return signedJSON(t, s.URL, s.AdminCredentials(), "ssm", "AmazonSSM."+op, body, time.Now())
}

// TestSSMWire: SSM's errors go out as 400 with {"__type": ...} and a
// lowercase "message", or none at all for TooManyUpdates and
// ParameterNotFound (docs/aws-services-reference.md §1.3, §6.3; emulators invent
// one, §8). A missing required member is a ValidationException.
func TestSSMWire(t *testing.T) {
	s, _, _ := newSSM(t)
	s.FailNext("PutParameter", "TooManyUpdates", 1)
	resp, body := ssmRaw(t, s, "PutParameter", `{"Name":"/x","Value":"v","Type":"String"}`)
	if resp.StatusCode != 400 || body != `{"__type":"TooManyUpdates"}` || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("TooManyUpdates: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	if resp, body = ssmRaw(t, s, "GetParameter", `{"Name":"/none"}`); resp.StatusCode != 400 || body != `{"__type":"ParameterNotFound"}` {
		t.Errorf("ParameterNotFound: %d %s", resp.StatusCode, body)
	}
	resp, body = ssmRaw(t, s, "PutParameter", `{"Name":"/x","Type":"String"}`)
	if resp.StatusCode != 400 || !strings.Contains(body, `"__type":"ValidationException"`) || !strings.Contains(body, `"message":"1 validation error detected: Value null at 'value'`) {
		t.Errorf("missing Value: %d %s", resp.StatusCode, body)
	}
	resp, body = ssmRaw(t, s, "LabelParameterVersion", `{"Name":"/x","Labels":[]}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "ValidationException") {
		t.Errorf("empty Labels: %d %s", resp.StatusCode, body)
	}
	resp, body = ssmRaw(t, s, "UnlabelParameterVersion", `{"Name":"/x","Labels":["a"]}`)
	if resp.StatusCode != 400 || !strings.Contains(body, "parameterVersion") {
		t.Errorf("Unlabel without a version: %d %s", resp.StatusCode, body)
	}
	if resp, body = ssmRaw(t, s, "GetParameter", `{"Name":""}`); resp.StatusCode != 400 || !strings.Contains(body, "ValidationException") {
		t.Errorf("empty name: %d %s", resp.StatusCode, body)
	}
}

// TestSSMFaultMessages: injected faults carry the texts SSM sends, and
// never a value.
func TestSSMFaultMessages(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newSSM(t)
	putString(t, c, "/m", "topsecret")
	for _, tc := range []struct {
		op, code, want string
	}{
		{"PutParameter", "ParameterAlreadyExists", "The parameter already exists."},
		{"PutParameter", "ParameterMaxVersionLimitExceeded", "Version 1, the oldest version, can't be deleted"},
		{"GetParameter", "ParameterVersionNotFound", "could not find version 3 of /m"},
		{"GetParameter", "AccessDeniedException", "is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:123456789012:parameter/m"},
		{"LabelParameterVersion", "ParameterVersionLabelLimitExceeded", "maximum of ten labels"},
		{"GetParameter", "ParameterNotFound", ""},
		{"GetParameter", "InternalServerError", ""},
	} {
		s.FailNext(tc.op, tc.code, 1)
		var err error
		switch tc.op {
		case "PutParameter":
			_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/m"), Value: aws.String("topsecret"), Overwrite: aws.Bool(true)})
		case "GetParameter":
			_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/m:3")})
		case "LabelParameterVersion":
			_, err = c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/m"), Labels: []string{"x"}})
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("%s %s: %v", tc.op, tc.code, err)
			continue
		}
		if msg := ae.ErrorMessage(); (tc.want == "" && msg != "") || !strings.Contains(msg, tc.want) || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s %s: message %q, want %q", tc.op, tc.code, msg, tc.want)
		}
	}
}
