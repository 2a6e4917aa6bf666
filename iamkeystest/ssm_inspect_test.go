package iamkeystest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestParameterValue reads a version by label, or the latest, without a
// request, and reports a missing parameter or label.
func TestParameterValue(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	c := ssm.NewFromConfig(srv.Config())
	for _, v := range []string{"one", "two"} {
		if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/app/key"), Value: aws.String(v),
			Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/app/key"),
		ParameterVersion: aws.Int64(1), Labels: []string{"current"}}); err != nil {
		t.Fatal(err)
	}
	before := srv.Calls("GetParameter")
	for _, tt := range []struct {
		name, label, want string
		version           int64
	}{
		{"/app/key", "", "two", 2},
		{"/app/key", "current", "one", 1},
		{"/app/key", "pending", "", 0},
		{"/missing", "", "", 0},
	} {
		got, ver, ok := srv.ParameterValue(tt.name, tt.label)
		if got != tt.want || ver != tt.version || ok != (tt.want != "") {
			t.Errorf("ParameterValue(%q, %q) = %q, %d, %v; want %q, %d", tt.name, tt.label, got, ver, ok, tt.want, tt.version)
		}
	}
	if n := srv.Calls("GetParameter") - before; n != 0 {
		t.Errorf("ParameterValue made %d requests", n)
	}
}
