package iamkeystest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// opFunc runs one operation with s.mu held. It returns the content of the
// {Op}Result element (nil for operations without output) or an error.
type opFunc func(s *Server, c *call) (any, *apiError)

// iamOps are the IAM actions the server implements.
var iamOps = map[string]opFunc{
	"CreateUser":               (*Server).opCreateUser,
	"GetUser":                  (*Server).opGetUser,
	"DeleteUser":               (*Server).opDeleteUser,
	"ListUsers":                (*Server).opListUsers,
	"TagUser":                  (*Server).opTagUser,
	"UntagUser":                (*Server).opUntagUser,
	"ListUserTags":             (*Server).opListUserTags,
	"PutUserPolicy":            (*Server).opPutUserPolicy,
	"GetUserPolicy":            (*Server).opGetUserPolicy,
	"ListUserPolicies":         (*Server).opListUserPolicies,
	"DeleteUserPolicy":         (*Server).opDeleteUserPolicy,
	"CreateAccessKey":          (*Server).opCreateAccessKey,
	"ListAccessKeys":           (*Server).opListAccessKeys,
	"GetAccessKeyLastUsed":     (*Server).opGetAccessKeyLastUsed,
	"UpdateAccessKey":          (*Server).opUpdateAccessKey,
	"DeleteAccessKey":          (*Server).opDeleteAccessKey,
	"GenerateCredentialReport": (*Server).opGenerateCredentialReport,
	"GetCredentialReport":      (*Server).opGetCredentialReport,
	"CreateRole":               (*Server).opCreateRole,
	"GetRole":                  (*Server).opGetRole,
	"DeleteRole":               (*Server).opDeleteRole,
	"ListRoles":                (*Server).opListRoles,
	"UpdateAssumeRolePolicy":   (*Server).opUpdateAssumeRolePolicy,
	"GetAccountSummary":        (*Server).opGetAccountSummary,

	// A user's other dependents (loginprofile.go, managedpolicies.go,
	// groups.go, mfa.go, credentials_other.go).
	"CreateLoginProfile":              (*Server).opCreateLoginProfile,
	"GetLoginProfile":                 (*Server).opGetLoginProfile,
	"UpdateLoginProfile":              (*Server).opUpdateLoginProfile,
	"DeleteLoginProfile":              (*Server).opDeleteLoginProfile,
	"AttachUserPolicy":                (*Server).opAttachUserPolicy,
	"DetachUserPolicy":                (*Server).opDetachUserPolicy,
	"ListAttachedUserPolicies":        (*Server).opListAttachedUserPolicies,
	"CreateGroup":                     (*Server).opCreateGroup,
	"DeleteGroup":                     (*Server).opDeleteGroup,
	"AddUserToGroup":                  (*Server).opAddUserToGroup,
	"RemoveUserFromGroup":             (*Server).opRemoveUserFromGroup,
	"ListGroupsForUser":               (*Server).opListGroupsForUser,
	"ListMFADevices":                  (*Server).opListMFADevices,
	"DeactivateMFADevice":             (*Server).opDeactivateMFADevice,
	"DeleteVirtualMFADevice":          (*Server).opDeleteVirtualMFADevice,
	"UploadSSHPublicKey":              (*Server).opUploadSSHPublicKey,
	"ListSSHPublicKeys":               (*Server).opListSSHPublicKeys,
	"DeleteSSHPublicKey":              (*Server).opDeleteSSHPublicKey,
	"UploadSigningCertificate":        (*Server).opUploadSigningCertificate,
	"ListSigningCertificates":         (*Server).opListSigningCertificates,
	"DeleteSigningCertificate":        (*Server).opDeleteSigningCertificate,
	"CreateServiceSpecificCredential": (*Server).opCreateServiceSpecificCredential,
	"ListServiceSpecificCredentials":  (*Server).opListServiceSpecificCredentials,
	"DeleteServiceSpecificCredential": (*Server).opDeleteServiceSpecificCredential,
}

// stsOps are the STS actions the server implements.
var stsOps = map[string]opFunc{
	"GetCallerIdentity": (*Server).opGetCallerIdentity,
	"AssumeRole":        (*Server).opAssumeRole,
}

// maxBody bounds the request body the server reads.
const maxBody = 1 << 22

// ServeHTTP answers one request. The service, and with it the protocol
// (Query for IAM and STS, JSON 1.1 for Secrets Manager and SSM), is chosen by
// the signing service in the SigV4 credential scope, as AWS routes by host.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	c := &call{requestID: newRequestID()}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		s.setDate(w)
		writeError(w, iamNamespace, c.requestID, newError(iamerr.InvalidInput, "Could not read the request body."))
		return
	}
	c.body = body
	c.form = parseForm(r, body)
	c.action = c.form.Get("Action")
	c.auth = parseAuthorization(r.Header.Get("Authorization"))
	service := c.auth.service
	if !c.auth.present {
		// An unsigned request names no service; AWS would have routed it
		// by host, which X-Amz-Target's prefix stands for here.
		service = serviceOfTarget(r.Header.Get("X-Amz-Target"))
	}
	p := protocolFor(service)
	op, opErr := p.operation(r, c)
	fail := func(e *apiError) {
		s.setDate(w)
		p.writeError(w, c.requestID, p.translate(e))
	}

	s.mu.Lock()
	s.calls[c.action]++
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		// The answer leaves latency after the request arrived, however long
		// the server took to work it out, as from a remote service with a
		// fixed response time.
		w = &delayedWriter{ResponseWriter: w, until: arrived.Add(latency), ctx: r.Context()}
	}

	if e := s.throttled(); e != nil {
		fail(e)
		return
	}
	if e := s.authenticate(r, body, c); e != nil {
		fail(e)
		return
	}
	s.deliver(c)
	if opErr != nil {
		fail(opErr)
		return
	}
	f := s.takeFault(c.action)
	if f.code != "" {
		fail(newError(f.code, p.faultMessage(s, f.code, c)))
		return
	}

	s.mu.Lock()
	result, e := op(s, c)
	s.mu.Unlock()
	s.deliver(c) // the hook sees the change even if the answer is then lost

	if f.ambiguous {
		s.failAmbiguously(w, f.mode, p, c.requestID)
		return
	}
	if e != nil {
		fail(e)
		return
	}
	s.setDate(w)
	p.writeResult(w, c, result)
}

// parseForm merges the URL query and an urlencoded POST body. Values from the
// body come first.
func parseForm(r *http.Request, body []byte) url.Values {
	form := url.Values{}
	ct := r.Header.Get("Content-Type")
	if r.Method == http.MethodPost && (ct == "" || strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded")) {
		if v, err := url.ParseQuery(string(body)); err == nil {
			form = v
		}
	}
	for k, vs := range r.URL.Query() {
		form[k] = append(form[k], vs...)
	}
	return form
}

// A delayedWriter holds a response back until a deadline: the first
// WriteHeader, Write or Hijack waits for it. If the client goes away first,
// nothing is written.
type delayedWriter struct {
	http.ResponseWriter
	until  time.Time
	ctx    context.Context
	waited bool
	gone   bool
}

func (d *delayedWriter) wait() {
	if d.waited {
		return
	}
	d.waited = true
	t := time.NewTimer(time.Until(d.until))
	defer t.Stop()
	select {
	case <-t.C:
	case <-d.ctx.Done():
		d.gone = true
	}
}

func (d *delayedWriter) WriteHeader(status int) {
	if d.wait(); !d.gone {
		d.ResponseWriter.WriteHeader(status)
	}
}

func (d *delayedWriter) Write(b []byte) (int, error) {
	if d.wait(); d.gone {
		return 0, d.ctx.Err()
	}
	return d.ResponseWriter.Write(b)
}

// Hijack waits, then hands over the connection (for DropConnection faults).
func (d *delayedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	d.wait()
	hj, ok := d.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("iamkeystest: the connection cannot be hijacked")
	}
	return hj.Hijack()
}
