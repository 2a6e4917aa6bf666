package iamkeystest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/iamkeys/iamkeys/iamkeystest"
)

// TestUnsignedJSONRequest pins docs/aws-services-reference.md §1.4 and §1.3: a JSON
// service refuses an unsigned request in its own envelope, a 400 JSON
// error, not IAM's XML.
func TestUnsignedJSONRequest(t *testing.T) {
	srv := iamkeystest.NewServer()
	defer srv.Close()
	for _, target := range []string{"secretsmanager.GetSecretValue", "AmazonSSM.GetParameter", "AWSOrganizationsV20161128.ListAccounts"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusBadRequest || body["__type"] != "MissingAuthenticationTokenException" ||
			resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			t.Errorf("%s unsigned: status %d, %s, body %v (%v); want 400 JSON MissingAuthenticationTokenException", target, resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
		}
	}
}
