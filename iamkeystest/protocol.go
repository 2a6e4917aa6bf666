package iamkeystest

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamkeys/iamkeys/internal/iamerr"
)

// XML namespaces and API versions of the two services the server speaks.
const (
	iamNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	iamVersion   = "2010-05-08"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	stsVersion   = "2011-06-15"
)

// apiError is an IAM error as it goes on the wire.
type apiError struct {
	code    string
	message string // empty: no <Message> element
	reason  string // the Reason of Organizations' InvalidInputException; JSON only
}

func newError(code, message string) *apiError {
	return &apiError{code: code, message: message}
}

func noSuchUser(name string) *apiError {
	return newError(iamerr.NoSuchEntity, "The user with name "+name+" cannot be found.")
}

// call is one decoded request.
type call struct {
	requestID string
	action    string
	form      url.Values
	body      []byte // the raw body, for JSON services
	auth      authInfo
	caller    *accessKey // the verified signing key; nil before auth
	events    []Event    // made by the request, not yet passed to the hook
}

// has reports whether the request carries parameter name at all.
func (c *call) has(name string) bool {
	_, ok := c.form[name]
	return ok
}

// list returns the values of a list parameter sent as name.member.N, in N
// order. It returns nil when the list is absent, and an empty non-nil slice
// for an explicitly empty list (name=).
func (c *call) list(name string) []string {
	idx := c.listIndexes(name)
	if idx == nil {
		return nil
	}
	out := make([]string, 0, len(idx))
	for _, n := range idx {
		out = append(out, c.form.Get(name+".member."+strconv.Itoa(n)))
	}
	return out
}

// listIndexes returns the sorted member indexes N of name.member.N[.field].
func (c *call) listIndexes(name string) []int {
	prefix := name + ".member."
	seen := map[int]bool{}
	for k := range c.form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(num); err == nil && n > 0 {
			seen[n] = true
		}
	}
	if len(seen) == 0 {
		if c.has(name) {
			return []int{}
		}
		return nil
	}
	idx := make([]int, 0, len(seen))
	for n := range seen {
		idx = append(idx, n)
	}
	sort.Ints(idx)
	return idx
}

// isoTime formats t as IAM does in XML: RFC 3339, UTC, whole seconds, Z.
func isoTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type xmlErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     xmlError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type xmlError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message,omitempty"`
}

// writeHeaders sets the headers IAM sends with every answer.
func writeHeaders(w http.ResponseWriter, requestID string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", requestID)
}

// setDate sets the Date header, which AWS sends with every answer, to the
// server clock's time in the format of http.TimeFormat. The SDK reads it
// (GetServerTime in aws/middleware) and corrects its signing clock by it.
func (s *Server) setDate(w http.ResponseWriter) {
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
}

// writeResult writes the success envelope for action. result is the content
// of <{action}Result>; nil omits the element, for operations without output.
func writeResult(w http.ResponseWriter, namespace, requestID, action string, result any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{
		Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: namespace}},
	}
	err := enc.EncodeToken(start)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestID: requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(start.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		writeError(w, namespace, requestID, newError(iamerr.ServiceFailure, "Failed to encode the response: "+err.Error()))
		return
	}
	writeHeaders(w, requestID)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// writeError writes the error envelope with the status IAM uses for the code.
func writeError(w http.ResponseWriter, namespace, requestID string, e *apiError) {
	body, _ := xml.Marshal(xmlErrorResponse{
		Xmlns:     namespace,
		Error:     xmlError{Type: iamerr.Fault(e.code), Code: e.code, Message: e.message},
		RequestID: requestID,
	})
	writeHeaders(w, requestID)
	w.WriteHeader(iamerr.Status(e.code))
	w.Write([]byte(xml.Header))
	w.Write(body)
}
