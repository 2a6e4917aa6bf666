package iamkeystest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// authInfo is the parsed SigV4 Authorization header.
type authInfo struct {
	present       bool
	keyID         string
	date          string
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// parseAuthorization parses
// "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) authInfo {
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return authInfo{}
	}
	var a authInfo
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) == 5 && scope[4] == "aws4_request" {
				a.keyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
			}
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	a.present = a.keyID != "" && a.signature != "" && len(a.signedHeaders) > 0
	return a
}

// Messages of the authentication errors (docs/iam-reference.md §1.4).
const (
	invalidTokenMessage = "The security token included in the request is invalid."
	signatureMessage    = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// authenticate identifies the caller by the access key in the credential
// scope and verifies the SigV4 signature with the stored secret. On success it
// sets c.caller and records the key's last use.
func (s *Server) authenticate(r *http.Request, body []byte, c *call) *apiError {
	a := c.auth
	if !a.present {
		return newError(iamerr.MissingAuthenticationToken, "Request is missing Authentication Token")
	}
	if strings.HasPrefix(a.keyID, sessionKeyPrefix) {
		return s.authenticateSession(r, body, c)
	}
	now := s.now()
	usable := func(k *accessKey) bool {
		// Root keys exist only for the credential report; they do not sign.
		return k != nil && k.owner != nil && k.status == statusActive && !now.Before(k.usableFrom)
	}
	s.mu.Lock()
	k := s.keys[a.keyID]
	ok := usable(k)
	var secret string
	if ok {
		secret = k.secret
	}
	s.mu.Unlock()
	if !ok {
		return newError(iamerr.InvalidClientTokenID, invalidTokenMessage)
	}
	// The signature is checked outside the lock, so that requests do not
	// queue behind each other's hashing.
	if !verifySignature(s.signer, r, body, a, secret) {
		return newError(iamerr.SignatureDoesNotMatch, signatureMessage)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k = s.keys[a.keyID]; !usable(k) { // deleted or deactivated meanwhile
		return newError(iamerr.InvalidClientTokenID, invalidTokenMessage)
	}
	s.recordUse(k, now, a.service, a.region)
	c.caller = k
	s.emit(c, Event{At: now, Action: "Use", UserName: k.owner.name, AccessKeyID: k.id, Service: a.service, Region: a.region})
	return nil
}

// authenticateSession authenticates a request signed with session
// credentials from AssumeRole (docs/aws-services-reference.md §2.4, §2.7): the
// X-Amz-Security-Token header must carry the session's token, the session
// must not have expired on the server clock, and the signature must verify
// with the session's secret. A session's use is recorded on no IAM user and
// makes no Event. On success c.caller is the session's key.
func (s *Server) authenticateSession(r *http.Request, body []byte, c *call) *apiError {
	a := c.auth
	s.mu.Lock()
	se := s.acct.sessions[a.keyID]
	s.mu.Unlock()
	if se == nil || !hmac.Equal([]byte(r.Header.Get("X-Amz-Security-Token")), []byte(se.token)) {
		return newError(iamerr.InvalidClientTokenID, invalidTokenMessage)
	}
	if !s.now().Before(se.expires) {
		return newError(iamerr.ExpiredToken, expiredTokenMessage)
	}
	if !verifySignature(s.signer, r, body, a, se.key.secret) {
		return newError(iamerr.SignatureDoesNotMatch, signatureMessage)
	}
	c.caller = se.key
	return refuseForSession(c)
}

// verifySignature re-signs a copy of r holding only the signed headers, with
// the same X-Amz-Date, scope and payload, and compares the signatures.
func verifySignature(signer *v4.Signer, r *http.Request, body []byte, a authInfo, secret string) bool {
	t, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || t.UTC().Format("20060102") != a.date {
		return false
	}
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
	if err != nil {
		return false
	}
	req.Host = r.Host
	for _, h := range a.signedHeaders {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	// The signature covers the hash of the body actually received: a client
	// that declares one payload hash and sends another body is refused.
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if declared := r.Header.Get("X-Amz-Content-Sha256"); declared != "" && declared != payloadHash {
		return false
	}
	creds := aws.Credentials{AccessKeyID: a.keyID, SecretAccessKey: secret}
	if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, a.service, a.region, t); err != nil {
		return false
	}
	want := parseAuthorization(req.Header.Get("Authorization"))
	return hmac.Equal([]byte(want.signature), []byte(a.signature))
}
