package ssmstore

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/iamkeys/iamkeys"
)

// The members of the parameter's value that the store reads and writes.
const (
	memberKeyID  = "AccessKeyId"
	memberSecret = "SecretAccessKey"
)

// errNotCredentials is why a value cannot be read. It never quotes the value
// (nor does it wrap a JSON error, which may quote a character of it).
var errNotCredentials = errors.New("the value is not a JSON object with string members AccessKeyId and SecretAccessKey")

// encode returns the value holding key: base's members, if base is a JSON
// object, with AccessKeyId and SecretAccessKey set to key's and any
// spelling of theirs in another case removed.
func encode(base string, key iamkeys.NewKey) string {
	members := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(base), &members); err != nil || members == nil {
		members = map[string]json.RawMessage{}
	}
	id, _ := json.Marshal(key.ID)
	secret, _ := json.Marshal(key.Secret.Reveal())
	// A member spelled like a key member in another case would hold the
	// old key still for readers that match names without regard to case,
	// as encoding/json (and decode) does.
	for k := range members {
		if strings.EqualFold(k, memberKeyID) || strings.EqualFold(k, memberSecret) {
			delete(members, k)
		}
	}
	members[memberKeyID], members[memberSecret] = id, secret
	// Marshalling strings, and members Unmarshal read as valid JSON, cannot
	// fail.
	b, _ := json.Marshal(members)
	return string(b)
}

// decode reads the key out of a value.
func decode(value string) (iamkeys.NewKey, error) {
	var v struct {
		AccessKeyId     *string
		SecretAccessKey *string
	}
	if err := json.Unmarshal([]byte(value), &v); err != nil || v.AccessKeyId == nil || v.SecretAccessKey == nil || *v.AccessKeyId == "" {
		return iamkeys.NewKey{}, errNotCredentials
	}
	return iamkeys.NewKey{Key: iamkeys.Key{ID: *v.AccessKeyId}, Secret: iamkeys.NewSecret(*v.SecretAccessKey)}, nil
}

// keyID returns the access key ID a value holds, or "" if it holds none.
func keyID(value string) string {
	k, err := decode(value)
	if err != nil {
		return ""
	}
	return k.ID
}
