package iamkeystest

import (
	"math"
	"net/http"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// AmbiguousMode is how a FailNextAmbiguous call fails after applying its change.
type AmbiguousMode int

const (
	// DropConnection closes the TCP connection without answering.
	DropConnection AmbiguousMode = iota
	// InternalError answers 500 InternalFailure.
	InternalError
)

// fault is one pending injected failure.
type fault struct {
	code      string // FailNext: answer with this code, apply nothing
	ambiguous bool   // FailNextAmbiguous: apply, then fail with mode
	mode      AmbiguousMode
}

// FailNext makes the next n calls of op (an Action name such as
// "CreateAccessKey") answer with the IAM error code, at the status IAM uses
// for it and with a realistic message, without applying anything. Faults
// queue up behind earlier ones for the same op.
func (s *Server) FailNext(op string, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], fault{code: code})
	}
}

// FailNextAmbiguous makes the next n calls of op apply their change and then
// fail as mode says, so that the client cannot tell whether it happened.
func (s *Server) FailNextAmbiguous(op string, n int, mode AmbiguousMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], fault{ambiguous: true, mode: mode})
	}
}

// takeFault pops the next pending fault for action, if any.
func (s *Server) takeFault(action string) fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[action]
	if len(q) == 0 {
		return fault{}
	}
	s.faults[action] = q[1:]
	return q[0]
}

// failAmbiguously ends a request whose change was applied.
func (s *Server) failAmbiguously(w http.ResponseWriter, mode AmbiguousMode, p protocol, requestID string) {
	if mode == DropConnection {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	s.setDate(w)
	p.writeError(w, requestID, p.translate(newError(iamerr.InternalFailure, internalMessage)))
}

const internalMessage = "We encountered an internal error. Please try again."

// faultMessage returns a realistic message for an injected code.
func (s *Server) faultMessage(code string, c *call) string {
	switch code {
	case iamerr.Throttling:
		return "Rate exceeded"
	case iamerr.NoSuchEntity:
		if n := c.form.Get("UserName"); n != "" {
			return "The user with name " + n + " cannot be found."
		}
		if id := c.form.Get("AccessKeyId"); id != "" {
			return "The Access Key with id " + id + " cannot be found."
		}
		return "The request was rejected because it referenced an entity that does not exist."
	case iamerr.LimitExceeded:
		if c.action == "CreateAccessKey" {
			return "Cannot exceed quota for AccessKeysPerUser: 2"
		}
		return "The request was rejected because it attempted to create resources beyond the current AWS account limits."
	case iamerr.ConcurrentModification:
		return "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again."
	case iamerr.EntityTemporarilyUnmodifiable:
		return "The request was rejected because it referenced an entity that is temporarily unmodifiable. Wait a few minutes and submit your request again."
	case iamerr.ReportNotPresent:
		return ""
	case iamerr.ReportInProgress:
		return "Report generation in progress."
	case iamerr.ServiceFailure:
		return "The request processing has failed because of an unknown error, exception or failure."
	case iamerr.InternalFailure:
		return internalMessage
	case iamerr.ServiceUnavailable:
		return "Service is unavailable. Please try again later."
	case iamerr.AccessDenied:
		return "User: " + c.caller.owner.arn(s.cfg.accountID) + " is not authorized to perform: iam:" + c.action
	case iamerr.InvalidClientTokenID:
		return invalidTokenMessage
	case iamerr.SignatureDoesNotMatch:
		return signatureMessage
	}
	return "The request was rejected: " + code + "."
}

// throttleState is the deterministic fraction accumulator and the real-time
// token bucket.
type throttleState struct {
	requests int // requests seen by WithThrottleFraction
	tokens   float64
	last     time.Time
}

// throttled applies WithThrottleFraction and WithRateLimit to one request.
func (s *Server) throttled() *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	limited := false
	if f := s.cfg.throttleFraction; f > 0 {
		// Request n is throttled when n·f reaches a new whole number, so
		// exactly every (1/f)-th request is, without drift from adding up
		// floating-point fractions.
		s.throttle.requests++
		n := float64(s.throttle.requests)
		limited = math.Floor(n*f+1e-9) > math.Floor((n-1)*f+1e-9)
	}
	if rate := s.cfg.ratePerSecond; rate > 0 && !limited {
		now := time.Now()
		if !s.throttle.last.IsZero() {
			s.throttle.tokens += now.Sub(s.throttle.last).Seconds() * rate
		}
		s.throttle.tokens = min(s.throttle.tokens, float64(max(s.cfg.rateBurst, 1)))
		s.throttle.last = now
		if s.throttle.tokens >= 1 {
			s.throttle.tokens--
		} else {
			limited = true
		}
	}
	if limited {
		return newError(iamerr.Throttling, "Rate exceeded")
	}
	return nil
}

// Calls returns how many requests named Action op the server received,
// including throttled and failed ones. STS GetCallerIdentity counts as
// "GetCallerIdentity".
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// CallCounts returns a copy of the request counts per Action.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls sets every request count to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}
