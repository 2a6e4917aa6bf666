package iamkeystest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// A protocol is how one service's requests and answers go on the wire: the
// Query protocol with XML answers (IAM, STS), or JSON 1.1 with X-Amz-Target
// (Secrets Manager, SSM).
type protocol interface {
	// operation returns the operation the request names, or the error the
	// service answers for a request it cannot dispatch. It sets c.action.
	operation(r *http.Request, c *call) (opFunc, *apiError)
	// writeResult writes a successful answer.
	writeResult(w http.ResponseWriter, c *call, result any)
	// writeError writes an error answer.
	writeError(w http.ResponseWriter, requestID string, e *apiError)
	// translate maps an error the server raises for every service (a
	// failed signature, throttling, an internal failure) to this
	// service's own code and message.
	translate(e *apiError) *apiError
	// faultMessage is the message an injected fault of code carries.
	faultMessage(s *Server, code string, c *call) string
}

// protocolFor returns the protocol of the signing service named in the
// request's credential scope. Anything unknown is answered as IAM.
func protocolFor(service string) protocol {
	switch service {
	case "sts":
		return stsProtocol
	case "secretsmanager":
		return secretsManagerProtocol
	case "ssm":
		return ssmProtocol
	case "organizations":
		return organizationsProtocol
	}
	return iamProtocol
}

// serviceOfTarget returns the signing service whose JSON protocol uses the
// X-Amz-Target header target, or "" for none.
func serviceOfTarget(target string) string {
	prefix, _, _ := strings.Cut(target, ".")
	for service, p := range map[string]*jsonProtocol{
		"secretsmanager": secretsManagerProtocol, "ssm": ssmProtocol, "organizations": organizationsProtocol.jsonProtocol,
	} {
		if p.targetPrefix == prefix {
			return service
		}
	}
	return ""
}

// queryProtocol is the AWS Query protocol of IAM and STS.
type queryProtocol struct {
	namespace string
	version   string
	ops       map[string]opFunc
}

var (
	iamProtocol = &queryProtocol{namespace: iamNamespace, version: iamVersion, ops: iamOps}
	stsProtocol = &queryProtocol{namespace: stsNamespace, version: stsVersion, ops: stsOps}
)

func (p *queryProtocol) operation(r *http.Request, c *call) (opFunc, *apiError) {
	op, ok := p.ops[c.action]
	if !ok || c.form.Get("Version") != p.version {
		return nil, newError(iamerr.InvalidAction, "Could not find operation "+c.action+" for version "+c.form.Get("Version"))
	}
	return op, nil
}

func (p *queryProtocol) writeResult(w http.ResponseWriter, c *call, result any) {
	writeResult(w, p.namespace, c.requestID, c.action, result)
}

func (p *queryProtocol) writeError(w http.ResponseWriter, requestID string, e *apiError) {
	writeError(w, p.namespace, requestID, e)
}

func (p *queryProtocol) translate(e *apiError) *apiError { return e }

func (p *queryProtocol) faultMessage(s *Server, code string, c *call) string {
	return s.faultMessage(code, c)
}

// jsonProtocol is AWS JSON 1.1: POST / with an X-Amz-Target header naming
// "<prefix>.<Operation>", a JSON body, and answers that are JSON objects;
// errors are {"__type": code, "Message": text} at 400 (with Organizations'
// "Reason" when the error has one), or 500 for the service's internal error
// (docs/aws-services-reference.md §1).
type jsonProtocol struct {
	targetPrefix string
	ops          map[string]opFunc
	// messageKey is the member that carries an error's text: Secrets
	// Manager sends "Message", SSM "message" (§1.3).
	messageKey string
	// throttleCode and throttleMessage are the service's code and text for
	// a rate limit, internalCode its code for an internal failure.
	throttleCode    string
	throttleMessage string
	internalCode    string
	// messages gives the text of an injected fault, "" for none.
	messages func(s *Server, code string, c *call) string
}

// jsonContentType is the Content-Type of JSON 1.1 requests and answers.
const jsonContentType = "application/x-amz-json-1.1"

func (p *jsonProtocol) operation(r *http.Request, c *call) (opFunc, *apiError) {
	target := r.Header.Get("X-Amz-Target")
	prefix, name, ok := strings.Cut(target, ".")
	c.action = name
	if r.Method != http.MethodPost || !ok || prefix != p.targetPrefix {
		return nil, newError("UnknownOperationException", "")
	}
	op, ok := p.ops[name]
	if !ok {
		return nil, newError("UnknownOperationException", "")
	}
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.body = []byte("{}")
	}
	if !json.Valid(c.body) || bytes.TrimSpace(c.body)[0] != '{' {
		return nil, newError("SerializationException", "Start of structure or map found where not expected.")
	}
	return op, nil
}

func (p *jsonProtocol) writeResult(w http.ResponseWriter, c *call, result any) {
	if result == nil {
		result = struct{}{}
	}
	body, err := json.Marshal(result)
	if err != nil {
		p.writeError(w, c.requestID, newError(p.internalCode, "Failed to encode the response: "+err.Error()))
		return
	}
	p.writeHeaders(w, c.requestID)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func (p *jsonProtocol) writeHeaders(w http.ResponseWriter, requestID string) {
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("x-amzn-RequestId", requestID)
}

func (p *jsonProtocol) writeError(w http.ResponseWriter, requestID string, e *apiError) {
	fields := map[string]string{"__type": e.code}
	if e.message != "" {
		fields[p.messageKey] = e.message
	}
	if e.reason != "" {
		fields["Reason"] = e.reason
	}
	body, _ := json.Marshal(fields)
	p.writeHeaders(w, requestID)
	w.WriteHeader(p.status(e.code))
	w.Write(body)
}

// status is the HTTP status of an error code: every modeled client error
// of these services is 400, internal failures 500 (§1.3).
func (p *jsonProtocol) status(code string) int {
	switch code {
	case p.internalCode:
		return http.StatusInternalServerError
	case "ServiceUnavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func (p *jsonProtocol) translate(e *apiError) *apiError {
	switch e.code {
	case iamerr.InvalidClientTokenID:
		return newError("UnrecognizedClientException", invalidTokenMessage)
	case iamerr.SignatureDoesNotMatch:
		return newError("InvalidSignatureException", signatureMessage)
	case iamerr.MissingAuthenticationToken:
		return newError("MissingAuthenticationTokenException", "Missing Authentication Token")
	case iamerr.Throttling:
		return newError(p.throttleCode, p.throttleMessage)
	case iamerr.InternalFailure:
		return newError(p.internalCode, "")
	}
	return e
}

func (p *jsonProtocol) faultMessage(s *Server, code string, c *call) string {
	if code == p.throttleCode {
		return p.throttleMessage
	}
	if p.messages != nil {
		return p.messages(s, code, c)
	}
	return ""
}

// decode reads the JSON body of c into v. A body that does not fit v's
// types is the SerializationException AWS answers.
func (c *call) decode(v any) *apiError {
	if err := json.Unmarshal(c.body, v); err != nil {
		return newError("SerializationException", "")
	}
	return nil
}

// epochTime is a time that JSON services send as seconds since the epoch,
// a number with up to millisecond precision (§1.2: an ISO string fails the
// SDK's decoding).
type epochTime time.Time

// MarshalJSON writes t as a JSON number, for example 1523477145.713.
func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}
