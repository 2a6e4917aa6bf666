package iamkeystest

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ssmState is the server's SSM Parameter Store: parameters by name, each
// with its retained versions. Callers hold s.mu.
type ssmState struct {
	params       map[string]*ssmParam // by name, case-sensitively (§6.1)
	versionLimit int
}

// newSSMState returns an empty store, with the version limit of the last
// WithParameterVersionLimit among opts.
func newSSMState(opts []Option) ssmState {
	st := ssmState{params: map[string]*ssmParam{}, versionLimit: defaultParameterVersionLimit}
	for _, o := range opts {
		if n, ok := o.(ssmVersionLimit); ok {
			st.versionLimit = int(n)
		}
	}
	return st
}

// ssmParam is one parameter. The attributes of its latest write live in the
// latest version; tags belong to the parameter.
type ssmParam struct {
	name     string
	tags     []tag
	versions []*ssmVersion // retained, oldest first; never empty
}

// ssmVersion is one version of a parameter: what one PutParameter wrote.
type ssmVersion struct {
	version        int64
	typ            string // String, StringList or SecureString
	value          string // the plaintext; never in an error or a log
	ciphertext     string // what a SecureString read without decryption shows
	keyID          string // SecureString only
	tier           string
	dataType       string
	description    string
	allowedPattern string
	policies       string
	modified       time.Time
	user           string // ARN of the caller who wrote it
	labels         []string
}

// latest returns the parameter's newest version.
func (p *ssmParam) latest() *ssmVersion { return p.versions[len(p.versions)-1] }

// version returns version n, or nil if it is not retained.
func (p *ssmParam) version(n int64) *ssmVersion {
	for _, v := range p.versions {
		if v.version == n {
			return v
		}
	}
	return nil
}

// labelled returns the version carrying label, or nil.
func (p *ssmParam) labelled(label string) *ssmVersion {
	for _, v := range p.versions {
		if slices.Contains(v.labels, label) {
			return v
		}
	}
	return nil
}

// ssmARN returns the parameter's ARN: "parameter/" and the name, with no double
// slash for a hierarchical name (§6.1).
func ssmARN(s *Server, name string) string {
	return "arn:aws:ssm:" + Region + ":" + s.cfg.accountID + ":parameter/" + strings.TrimPrefix(name, "/")
}

// A ssmRef is a parameter reference as GetParameter takes it: a name or an
// ARN, optionally followed by ":version" or ":label".
type ssmRef struct {
	name     string
	alt      string // from an ARN "parameter/x": the other name it may mean, "/x"
	selector string // "" for none, else the text after the colon
	version  int64  // set when the selector is a number
}

// parseRef splits a reference into name and selector. Parameter names hold
// no colon, so the first colon after the name starts the selector. An ARN
// names "/a/b" as "parameter/a/b", without a double slash (§6.1), so
// "parameter/x" may mean "x" or "/x".
func parseRef(s *Server, ref string) ssmRef {
	var r ssmRef
	name, fromARN := strings.CutPrefix(ref, "arn:aws:ssm:"+Region+":"+s.cfg.accountID+":parameter/")
	if base, sel, ok := strings.Cut(name, ":"); ok {
		name, r.selector = base, sel
		if n, ok := parseVersion(sel); ok && sel[0] != '+' {
			r.version = n
		}
	}
	r.name = name
	if fromARN {
		r.alt = "/" + name
		if strings.Contains(name, "/") {
			r.name, r.alt = r.alt, ""
		}
	}
	return r
}

// param returns the parameter a reference names, or nil.
func (st *ssmState) param(r ssmRef) *ssmParam {
	if p := st.params[r.name]; p != nil {
		return p
	}
	if r.alt != "" {
		return st.params[r.alt]
	}
	return nil
}

// resolve finds the version a reference names.
func (st *ssmState) resolve(r ssmRef) (*ssmParam, *ssmVersion, *apiError) {
	p := st.param(r)
	if p == nil {
		return nil, nil, errParameterNotFound()
	}
	switch {
	case r.selector == "":
		return p, p.latest(), nil
	case r.version > 0:
		if v := p.version(r.version); v != nil {
			return p, v, nil
		}
		return nil, nil, errVersionNotFound(p.name, r.selector)
	}
	if v := p.labelled(r.selector); v != nil {
		return p, v, nil
	}
	return nil, nil, errVersionNotFound(p.name, r.selector)
}

// newCiphertext returns an opaque stand-in for KMS ciphertext: random bytes,
// base64 encoded, a little longer than the value, and never derived from it.
func newCiphertext(value string) string {
	b := make([]byte, 120+len(value))
	rand.Read(b)
	b[0], b[1], b[2] = 0x01, 0x02, 0x02 // KMS ciphertext blobs start so
	return base64.StdEncoding.EncodeToString(b)
}

// shown is the value a read shows: the plaintext, or for a SecureString read
// without decryption its ciphertext (§6.2: WithDecryption is ignored for
// String and StringList).
func (v *ssmVersion) shown(decrypt bool) string {
	if v.typ == ssmSecureString && !decrypt {
		return v.ciphertext
	}
	return v.value
}

// ssmTokenPrefix marks the server's NextToken values, so a foreign one is
// refused.
const ssmTokenPrefix = "iamkeystest-ssm:"

// ssmToken returns an opaque NextToken carrying pos.
func ssmToken(pos string) string { return pageToken(ssmTokenPrefix, pos) }

// parseSSMToken returns the position a NextToken carries.
func parseSSMToken(tok string) (string, bool) { return parsePageToken(ssmTokenPrefix, tok) }

// parseVersion reads a positive version number.
func parseVersion(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}
