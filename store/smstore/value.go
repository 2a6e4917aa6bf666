package smstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/iamkeys/iamkeys"
)

// The members of the secret value that hold the key.
const (
	memberKeyID  = "AccessKeyId"
	memberSecret = "SecretAccessKey"
)

// The staging labels the store reads and moves.
const (
	stageCurrent = "AWSCURRENT"
	stagePending = "AWSPENDING"
	// stagePrevious is only read: Secrets Manager moves it.
	stagePrevious = "AWSPREVIOUS"
)

// tokenPrefix starts the ClientRequestToken, and so the VersionId, of every
// version a Store writes; the key ID follows.
const tokenPrefix = "iamkeys-rotation-"

// Bounds of a key ID: IAM's minimum, and the most that fits Secrets
// Manager's 64-character token after the prefix (which with 16 characters
// makes the 32 it needs at least).
const (
	minKeyIDLen = 16
	maxKeyIDLen = 64 - len(tokenPrefix)
)

// versionToken is the ClientRequestToken of the version holding keyID.
func versionToken(keyID string) string { return tokenPrefix + keyID }

// keyOfToken returns the key ID a version written by a Store holds, or ""
// for a version someone else wrote.
func keyOfToken(versionID string) string {
	id, ok := strings.CutPrefix(versionID, tokenPrefix)
	if !ok || checkKeyID(id) != nil {
		return ""
	}
	return id
}

// checkKeyID validates an access key ID: 16 to 47 word characters.
func checkKeyID(id string) error {
	if len(id) < minKeyIDLen || len(id) > maxKeyIDLen {
		return fmt.Errorf("access key ID %q must have %d to %d characters", id, minKeyIDLen, maxKeyIDLen)
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return fmt.Errorf("access key ID %q has a character other than a letter, digit or underscore", id)
		}
	}
	return nil
}

// checkKey validates a key handed to Put.
func checkKey(key iamkeys.NewKey) error {
	if err := checkKeyID(key.ID); err != nil {
		return err
	}
	if key.Secret.IsZero() {
		return fmt.Errorf("key %s has no secret access key", key.ID)
	}
	return nil
}

// checkSecretID validates a SecretId as Secrets Manager does: an ARN of at
// most 2048 characters, or a name of 1 to 512 letters, digits and /_+=.@-.
func checkSecretID(id string) error {
	switch {
	case id == "":
		return errors.New("empty secret ID")
	case strings.HasPrefix(id, "arn:"):
		if len(id) > 2048 {
			return fmt.Errorf("secret ARN has %d characters, more than 2048", len(id))
		}
		return nil
	case utf8.RuneCountInString(id) > 512:
		return fmt.Errorf("secret name has %d characters, more than 512", utf8.RuneCountInString(id))
	}
	for _, r := range id {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+=.@-", r)) {
			return fmt.Errorf("secret name %q has a character other than letters, digits and /_+=.@-", id)
		}
	}
	return nil
}

// A document is a secret value: a JSON object, members kept verbatim.
type document map[string]json.RawMessage

// errNotObject is why a value cannot be a document. The JSON decoder's own
// error is left out: it can quote a piece of the value.
var errNotObject = errors.New("the secret value is not a JSON object")

// parseDocument reads a secret value.
func parseDocument(value *string) (document, error) {
	if value == nil {
		return nil, errors.New("the secret version has no string value")
	}
	var d document
	if err := json.Unmarshal([]byte(*value), &d); err != nil || d == nil {
		return nil, errNotObject
	}
	return d, nil
}

// str returns the string member name, "" if it is absent or not a string.
func (d document) str(name string) string {
	var s string
	if raw, ok := d[name]; !ok || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// keyID returns the access key ID the document holds, "" if none.
func (d document) keyID() string { return d.str(memberKeyID) }

// holds reports whether the document holds exactly key.
func (d document) holds(key iamkeys.NewKey) bool {
	return d.keyID() == key.ID && d.str(memberSecret) == key.Secret.Reveal()
}

// key returns the access key the document holds.
func (d document) key() (iamkeys.NewKey, error) {
	id, secret := d.keyID(), d.str(memberSecret)
	if id == "" || secret == "" {
		return iamkeys.NewKey{}, fmt.Errorf("the secret value lacks %s or %s", memberKeyID, memberSecret)
	}
	return iamkeys.NewKey{Key: iamkeys.Key{ID: id}, Secret: iamkeys.NewSecret(secret)}, nil
}

// with returns the value of d with its key members set to key, every
// other member kept but those spelled like a key member in another case. Members come out sorted, so the same document and
// key always give the same text, and a repeated Put the same value.
func (d document) with(key iamkeys.NewKey) string {
	out := make(document, len(d)+2)
	for k, v := range d {
		// A member spelled like a key member in another case would hold
		// the old key still for readers that match names without regard
		// to case, as encoding/json does.
		if !strings.EqualFold(k, memberKeyID) && !strings.EqualFold(k, memberSecret) {
			out[k] = v
		}
	}
	id, _ := json.Marshal(key.ID)
	secret, _ := json.Marshal(key.Secret.Reveal())
	out[memberKeyID], out[memberSecret] = id, secret
	// Marshalling strings, and members parseDocument read as valid JSON,
	// cannot fail.
	b, _ := json.Marshal(out)
	return string(b)
}
