package iamkeystest

import (
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"
)

// ssmTag is a tag as SSM's JSON carries it.
type ssmTag struct {
	Key   string
	Value string
}

type putParameterInput struct {
	Name           *string
	Value          *string
	Type           string
	KeyId          *string
	Overwrite      *bool
	Tags           []ssmTag
	Tier           string
	DataType       *string
	Description    *string
	AllowedPattern *string
	Policies       *string
}

type putParameterOutput struct {
	Tier    string
	Version int64
}

// ssmNull is the error for a required member that is missing.
func ssmNull(member string) *apiError {
	return newError("ValidationException", "1 validation error detected: Value null at '"+member+"' failed to satisfy constraint: Member must not be null")
}

var ssmKeyIDPattern = regexp.MustCompile(`^([a-zA-Z0-9:/_-]+)$`)

// opPutParameter creates a parameter or, with Overwrite, adds a version
// (docs/aws-services-reference.md §6.1, §6.2).
func (s *Server) opPutParameter(c *call) (any, *apiError) {
	var in putParameterInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	switch {
	case in.Name == nil:
		return nil, ssmNull("name")
	case in.Value == nil:
		return nil, ssmNull("value")
	}
	name := *in.Name
	if e := checkName(s, name); e != nil {
		return nil, e
	}
	overwrite := in.Overwrite != nil && *in.Overwrite
	switch {
	case *in.Value == "":
		return nil, ssmInvalid("value", "have length greater than or equal to 1")
	case len(in.Tags) > 1000:
		return nil, ssmInvalid("tags", "have length less than or equal to 1000")
	case in.Type != "" && in.Type != ssmString && in.Type != ssmStringList && in.Type != ssmSecureString:
		return nil, ssmInvalid("type", "satisfy enum value set: [SecureString, StringList, String]")
	case in.Tier != "" && in.Tier != tierStandard && in.Tier != tierAdvanced && in.Tier != tierIntelligent:
		return nil, ssmInvalid("tier", "satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]")
	case in.Description != nil && utf8.RuneCountInString(*in.Description) > 1024:
		return nil, ssmInvalid("description", "have length less than or equal to 1024")
	case in.KeyId != nil && (len(*in.KeyId) < 1 || len(*in.KeyId) > 256 || !ssmKeyIDPattern.MatchString(*in.KeyId)):
		return nil, ssmInvalid("keyId", "satisfy regular expression pattern: ^([a-zA-Z0-9:/_-]+)$")
	case overwrite && len(in.Tags) > 0:
		return nil, newError("ValidationException", ssmTagsOverwrite)
	}
	dataType := "text"
	if in.DataType != nil {
		dataType = *in.DataType
	}
	switch dataType {
	case "text", "aws:ec2:image", "aws:ssm:integration":
	default:
		return nil, newError("ValidationException", "The following data type is not supported: "+dataType+" (Data type names are all lowercase.)")
	}

	p := s.ssm.params[name]
	var prev *ssmVersion
	if p != nil {
		if !overwrite {
			return nil, newError("ParameterAlreadyExists", ssmAlreadyExists)
		}
		prev = p.latest()
	}
	v := &ssmVersion{typ: in.Type, dataType: dataType, modified: s.now(), user: c.caller.owner.arn(s.cfg.accountID)}
	if v.typ == "" {
		if prev == nil {
			return nil, newError("ValidationException", ssmTypeRequired)
		}
		v.typ = prev.typ // a type is optional when updating (SSM model)
	}
	switch {
	case in.KeyId != nil && v.typ != ssmSecureString:
		return nil, newError("ValidationException", ssmKeyIDNotSecure)
	case in.KeyId != nil:
		v.keyID = *in.KeyId
	case v.typ == ssmSecureString && prev != nil && prev.typ == ssmSecureString:
		v.keyID = prev.keyID
	case v.typ == ssmSecureString:
		v.keyID = defaultSSMKeyID
	}
	if e := s.ssmTier(v, in.Tier, prev, *in.Value); e != nil {
		return nil, e
	}
	v.value = *in.Value
	if v.typ == ssmSecureString {
		v.ciphertext = newCiphertext(v.value)
	}
	// Attributes not sent are kept from the version before (◐).
	if prev != nil {
		v.description, v.allowedPattern, v.policies = prev.description, prev.allowedPattern, prev.policies
	}
	if in.Description != nil {
		v.description = *in.Description
	}
	if in.Policies != nil {
		v.policies = *in.Policies
	}
	if in.AllowedPattern != nil {
		v.allowedPattern = *in.AllowedPattern
	}
	if v.allowedPattern != "" {
		re, err := regexp.Compile(v.allowedPattern)
		if err != nil {
			return nil, newError("InvalidAllowedPatternException", "The allowed pattern is not a valid regular expression.")
		}
		if !re.MatchString(v.value) {
			return nil, newError("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern: "+v.allowedPattern)
		}
	}

	if p == nil {
		p = &ssmParam{name: name}
		for _, t := range in.Tags {
			p.tags = append(p.tags, tag{key: t.Key, value: t.Value})
		}
		v.version = 1
		s.ssm.params[name] = p
	} else {
		// The version window: the oldest goes, unless a label holds it
		// (§6.1).
		if len(p.versions) >= s.ssm.versionLimit {
			if oldest := p.versions[0]; len(oldest.labels) > 0 {
				return nil, errMaxVersions(name, oldest.version)
			}
			p.versions = p.versions[1:]
		}
		v.version = prev.version + 1
	}
	p.versions = append(p.versions, v)
	return putParameterOutput{Tier: v.tier, Version: v.version}, nil
}

// ssmTier sets v's tier from the requested one and the version before,
// and checks the value's length against it (§6.1).
func (s *Server) ssmTier(v *ssmVersion, requested string, prev *ssmVersion, value string) *apiError {
	n := utf8.RuneCountInString(value)
	tier := requested
	switch {
	case tier == tierIntelligent && (n > maxStandardValue || (prev != nil && prev.tier == tierAdvanced)):
		tier = tierAdvanced
	case tier == tierIntelligent:
		tier = tierStandard
	case tier == "" && prev != nil:
		tier = prev.tier
	case tier == "":
		tier = tierStandard
	}
	if prev != nil && prev.tier == tierAdvanced && tier == tierStandard {
		return newError("ValidationException", ssmNoDowngrade)
	}
	if limit, msg := valueLimit(tier); n > limit {
		return newError("ValidationException", msg)
	}
	v.tier = tier
	return nil
}

// ssmParameterOut is a Parameter as GetParameter(s) return it.
type ssmParameterOut struct {
	ARN              string
	DataType         string
	LastModifiedDate epochTime
	Name             string
	Selector         string `json:",omitempty"`
	Type             string
	Value            string
	Version          int64
}

func (s *Server) parameterOut(p *ssmParam, v *ssmVersion, r ssmRef, decrypt bool) ssmParameterOut {
	out := ssmParameterOut{
		ARN:              ssmARN(s, p.name),
		DataType:         v.dataType,
		LastModifiedDate: epochTime(v.modified),
		Name:             p.name,
		Type:             v.typ,
		Value:            v.shown(decrypt),
		Version:          v.version,
	}
	if r.selector != "" {
		out.Selector = ":" + r.selector
	}
	return out
}

// opGetParameter reads the latest version, or the one a ":version" or
// ":label" selector names (§6.2).
func (s *Server) opGetParameter(c *call) (any, *apiError) {
	var in struct {
		Name           *string
		WithDecryption bool
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if in.Name == nil {
		return nil, ssmNull("name")
	}
	if e := checkRefName("name", *in.Name); e != nil {
		return nil, e
	}
	r := parseRef(s, *in.Name)
	p, v, e := s.ssm.resolve(r)
	if e != nil {
		return nil, e
	}
	return struct{ Parameter ssmParameterOut }{s.parameterOut(p, v, r, in.WithDecryption)}, nil
}

// opGetParameters reads up to ten parameters; the names it cannot resolve
// come back in InvalidParameters, not as an error.
func (s *Server) opGetParameters(c *call) (any, *apiError) {
	var in struct {
		Names          []string
		WithDecryption bool
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	switch {
	case in.Names == nil:
		return nil, ssmNull("names")
	case len(in.Names) < 1:
		return nil, ssmInvalid("names", "have length greater than or equal to 1")
	case len(in.Names) > 10:
		return nil, ssmInvalid("names", "have length less than or equal to 10")
	}
	out := struct {
		Parameters        []ssmParameterOut
		InvalidParameters []string
	}{Parameters: []ssmParameterOut{}, InvalidParameters: []string{}}
	seen := map[string]bool{}
	for _, n := range in.Names {
		if e := checkRefName("names", n); e != nil {
			return nil, e
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		r := parseRef(s, n)
		p, v, e := s.ssm.resolve(r)
		if e != nil {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		out.Parameters = append(out.Parameters, s.parameterOut(p, v, r, in.WithDecryption))
	}
	return out, nil
}

// ssmHistoryOut is one version as GetParameterHistory returns it.
type ssmHistoryOut struct {
	AllowedPattern   string `json:",omitempty"`
	DataType         string
	Description      string `json:",omitempty"`
	KeyId            string `json:",omitempty"`
	Labels           []string
	LastModifiedDate epochTime
	LastModifiedUser string
	Name             string
	Policies         []struct{}
	Tier             string
	Type             string
	Value            string
	Version          int64
}

// opGetParameterHistory lists the retained versions, oldest first, in pages
// of at most 50 (§6.2).
func (s *Server) opGetParameterHistory(c *call) (any, *apiError) {
	var in struct {
		Name           *string
		WithDecryption bool
		MaxResults     *int
		NextToken      *string
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if in.Name == nil {
		return nil, ssmNull("name")
	}
	if e := checkRefName("name", *in.Name); e != nil {
		return nil, e
	}
	limit, e := ssmPageSize(in.MaxResults)
	if e != nil {
		return nil, e
	}
	var from int64
	if in.NextToken != nil {
		n, ok := parseSSMToken(*in.NextToken)
		if !ok {
			return nil, newError("InvalidNextToken", ssmInvalidTokenMessage)
		}
		if from, ok = parseVersion(n); !ok {
			return nil, newError("InvalidNextToken", ssmInvalidTokenMessage)
		}
	}
	r := parseRef(s, *in.Name)
	p := s.ssm.param(r)
	if p == nil || r.selector != "" {
		return nil, errParameterNotFound()
	}
	out := struct {
		Parameters []ssmHistoryOut
		NextToken  string `json:",omitempty"`
	}{Parameters: []ssmHistoryOut{}}
	for _, v := range p.versions {
		if v.version < from {
			continue
		}
		if len(out.Parameters) == limit {
			out.NextToken = ssmToken(strconv.FormatInt(v.version, 10))
			break
		}
		out.Parameters = append(out.Parameters, ssmHistoryOut{
			AllowedPattern:   v.allowedPattern,
			DataType:         v.dataType,
			Description:      v.description,
			KeyId:            v.keyID,
			Labels:           append([]string{}, v.labels...),
			LastModifiedDate: epochTime(v.modified),
			LastModifiedUser: v.user,
			Name:             p.name,
			Policies:         []struct{}{},
			Tier:             v.tier,
			Type:             v.typ,
			Value:            v.shown(in.WithDecryption),
			Version:          v.version,
		})
	}
	return out, nil
}

// opDeleteParameter removes a parameter with every version (§6.2).
func (s *Server) opDeleteParameter(c *call) (any, *apiError) {
	var in struct{ Name *string }
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if in.Name == nil {
		return nil, ssmNull("name")
	}
	if e := checkRefName("name", *in.Name); e != nil {
		return nil, e
	}
	if s.ssm.params[*in.Name] == nil {
		return nil, errParameterNotFound()
	}
	delete(s.ssm.params, *in.Name)
	return nil, nil
}

// ssmMetadataOut is one parameter as DescribeParameters returns it.
type ssmMetadataOut struct {
	ARN              string
	AllowedPattern   string `json:",omitempty"`
	DataType         string
	Description      string `json:",omitempty"`
	KeyId            string `json:",omitempty"`
	LastModifiedDate epochTime
	LastModifiedUser string
	Name             string
	Policies         []struct{}
	Tier             string
	Type             string
	Version          int64
}

// opDescribeParameters lists parameters by name, in pages of at most 50.
// Of the filters it understands only ParameterFilters on Name (Equals or
// BeginsWith); any other filter is refused with InvalidFilterKey.
func (s *Server) opDescribeParameters(c *call) (any, *apiError) {
	var in struct {
		Filters          []struct{ Key string }
		ParameterFilters []struct {
			Key    string
			Option string
			Values []string
		}
		MaxResults *int
		NextToken  *string
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	limit, e := ssmPageSize(in.MaxResults)
	if e != nil {
		return nil, e
	}
	if len(in.Filters) > 0 {
		return nil, newError("InvalidFilterKey", "")
	}
	after := ""
	if in.NextToken != nil {
		n, ok := parseSSMToken(*in.NextToken)
		if !ok {
			return nil, newError("InvalidNextToken", ssmInvalidTokenMessage)
		}
		after = n
	}
	match := func(string) bool { return true }
	for _, f := range in.ParameterFilters {
		if f.Key != "Name" {
			return nil, newError("InvalidFilterKey", "")
		}
		prev, f := match, f
		switch f.Option {
		case "", "Equals":
			match = func(n string) bool { return prev(n) && slices.Contains(f.Values, n) }
		case "BeginsWith":
			match = func(n string) bool {
				return prev(n) && slices.ContainsFunc(f.Values, func(v string) bool { return len(n) >= len(v) && n[:len(v)] == v })
			}
		default:
			return nil, newError("InvalidFilterOption", "The following filter option is not valid: "+f.Option+". Valid options include: [Equals, BeginsWith].")
		}
	}
	names := make([]string, 0, len(s.ssm.params))
	for n := range s.ssm.params {
		if n > after && match(n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := struct {
		Parameters []ssmMetadataOut
		NextToken  string `json:",omitempty"`
	}{Parameters: []ssmMetadataOut{}}
	for i, n := range names {
		if i == limit {
			out.NextToken = ssmToken(names[i-1])
			break
		}
		p := s.ssm.params[n]
		v := p.latest()
		out.Parameters = append(out.Parameters, ssmMetadataOut{
			ARN: ssmARN(s, n), AllowedPattern: v.allowedPattern, DataType: v.dataType, Description: v.description,
			KeyId: v.keyID, LastModifiedDate: epochTime(v.modified), LastModifiedUser: v.user, Name: n,
			Policies: []struct{}{}, Tier: v.tier, Type: v.typ, Version: v.version,
		})
	}
	return out, nil
}

// ssmPageSize reads MaxResults: 1–50, default 50.
func ssmPageSize(n *int) (int, *apiError) {
	switch {
	case n == nil:
		return maxHistoryPage, nil
	case *n < 1:
		return 0, ssmInvalid("maxResults", "have value greater than or equal to 1")
	case *n > maxHistoryPage:
		return 0, ssmInvalid("maxResults", "have value less than or equal to 50")
	}
	return *n, nil
}
