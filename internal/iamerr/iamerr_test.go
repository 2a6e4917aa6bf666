package iamerr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

// TestHas: the code of an API error is found through any wrapping, and
// nothing else matches.
func TestHas(t *testing.T) {
	api := &smithy.GenericAPIError{Code: NoSuchEntity}
	for _, tt := range []struct {
		err  error
		code string
		want bool
	}{
		{api, NoSuchEntity, true},
		{fmt.Errorf("op: %w", api), NoSuchEntity, true},
		{api, LimitExceeded, false},
		{errors.New(NoSuchEntity), NoSuchEntity, false},
		{nil, NoSuchEntity, false},
	} {
		if got := Has(tt.err, tt.code); got != tt.want {
			t.Errorf("Has(%v, %s) = %v, want %v", tt.err, tt.code, got, tt.want)
		}
	}
}
