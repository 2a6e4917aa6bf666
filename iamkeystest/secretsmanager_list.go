package iamkeystest

import (
	"slices"
	"strconv"
	"strings"
)

// smTokenPrefix leads the offset a Secrets Manager NextToken carries.
const smTokenPrefix = "offset:"

// smPage cuts one page of n items at the offset in token, returning the
// bounds and the next token ("" at the end). maxResults is 1 to 100.
func smPage(n int, token *string, maxResults *int) (from, to int, next string, e *apiError) {
	size := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return 0, 0, "", newError("ValidationException", "1 validation error detected: Value '"+strconv.Itoa(*maxResults)+
				"' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100")
		}
		size = *maxResults
	}
	if token != nil {
		pos, ok := parsePageToken(smTokenPrefix, *token)
		off, err := strconv.Atoi(pos)
		if !ok || err != nil || off < 0 || off > n {
			// Text ◐.
			return 0, 0, "", newError("InvalidNextTokenException", "The nextToken provided is invalid.")
		}
		from = off
	}
	to = min(from+size, n)
	if to < n {
		next = pageToken(smTokenPrefix, strconv.Itoa(to))
	}
	return from, to, next, nil
}

func (s *Server) opListSecretVersionIds(c *call) (any, *apiError) {
	var in struct {
		SecretId          string
		MaxResults        *int
		NextToken         *string
		IncludeDeprecated *bool
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	sec, e := s.findSecret(in.SecretId)
	if e != nil {
		return nil, e
	}
	all := in.IncludeDeprecated != nil && *in.IncludeDeprecated
	var vs []*secretVersion
	for _, v := range sec.sortedVersions() {
		if all || len(v.stages) > 0 { // §5.3, rule 6
			vs = append(vs, v)
		}
	}
	from, to, next, e := smPage(len(vs), in.NextToken, in.MaxResults)
	if e != nil {
		return nil, e
	}
	type entry struct {
		VersionId        string
		VersionStages    []string `json:",omitempty"` // absent on deprecated versions
		CreatedDate      *epochTime
		LastAccessedDate *epochTime `json:",omitempty"`
		KmsKeyIds        []string
	}
	kms := "DefaultEncryptionKey"
	if sec.kmsKeyID != "" {
		kms = sec.kmsKeyID
	}
	versions := []entry{}
	for _, v := range vs[from:to] {
		versions = append(versions, entry{v.id, slices.Clone(v.stages), epoch(v.created), epoch(v.accessed), []string{kms}})
	}
	return struct {
		Versions []entry
		secretRef
		NextToken string `json:",omitempty"`
	}{versions, sec.ref(), next}, nil
}

func (s *Server) opListSecrets(c *call) (any, *apiError) {
	var in struct {
		IncludePlannedDeletion *bool
		MaxResults             *int
		NextToken              *string
		Filters                []struct {
			Key    string
			Values []string
		}
		SortOrder *string
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	s.purgeSecrets()
	var secs []*secret
	for _, sec := range s.secrets.byName {
		if sec.scheduled() && (in.IncludePlannedDeletion == nil || !*in.IncludePlannedDeletion) {
			continue
		}
		ok := true
		for _, f := range in.Filters {
			ok = ok && sec.matches(f.Key, f.Values)
		}
		if ok {
			secs = append(secs, sec)
		}
	}
	slices.SortFunc(secs, func(a, b *secret) int {
		if c := a.created.Compare(b.created); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	if in.SortOrder != nil && *in.SortOrder == "desc" {
		slices.Reverse(secs)
	}
	from, to, next, e := smPage(len(secs), in.NextToken, in.MaxResults)
	if e != nil {
		return nil, e
	}
	type entry struct {
		secretDescription
		VersionIdsToStages     map[string][]string `json:"-"`
		SecretVersionsToStages map[string][]string `json:",omitempty"`
	}
	list := []entry{}
	for _, sec := range secs[from:to] {
		d := describeSecret(sec)
		list = append(list, entry{secretDescription: d, SecretVersionsToStages: d.VersionIdsToStages})
	}
	return struct {
		SecretList []entry
		NextToken  string `json:",omitempty"`
	}{list, next}, nil
}

// matches applies one ListSecrets filter: a prefix match of any of values
// on the field key names ("all" for any of them).
func (sec *secret) matches(key string, values []string) bool {
	var fields []string
	switch key {
	case "name":
		fields = []string{sec.name}
	case "description":
		fields = []string{sec.description}
	case "tag-key", "tag-value", "all":
		if key == "all" {
			fields = []string{sec.name, sec.description}
		}
		for _, t := range sec.tags {
			if key != "tag-value" {
				fields = append(fields, t.key)
			}
			if key != "tag-key" {
				fields = append(fields, t.value)
			}
		}
	}
	for _, v := range values {
		for _, f := range fields {
			if strings.HasPrefix(f, v) {
				return true
			}
		}
	}
	return false
}
