package iamkeystest

import (
	"slices"
	"strconv"
)

type labelInput struct {
	Name             *string
	ParameterVersion *int64
	Labels           []string
}

// labelTarget finds the parameter and version a label request names: the given
// version, or the latest when none is given and latestByDefault.
func (s *Server) labelTarget(in labelInput, latestByDefault bool) (*ssmParam, *ssmVersion, *apiError) {
	switch {
	case in.Name == nil:
		return nil, nil, ssmNull("name")
	case in.ParameterVersion == nil && !latestByDefault:
		return nil, nil, ssmNull("parameterVersion")
	case in.Labels == nil:
		return nil, nil, ssmNull("labels")
	}
	if e := checkRefName("name", *in.Name); e != nil {
		return nil, nil, e
	}
	if e := checkLabelList(in.Labels); e != nil {
		return nil, nil, e
	}
	p := s.ssm.params[*in.Name]
	if p == nil {
		return nil, nil, errParameterNotFound()
	}
	if in.ParameterVersion == nil {
		return p, p.latest(), nil
	}
	v := p.version(*in.ParameterVersion)
	if v == nil {
		return nil, nil, errVersionNotFound(p.name, strconv.FormatInt(*in.ParameterVersion, 10))
	}
	return p, v, nil
}

// opLabelParameterVersion attaches labels to a version, the latest by
// default. A label is on one version at a time, so attaching it moves it;
// labels that break the rules come back in InvalidLabels, not as an error;
// a version holds at most ten (§6.2).
func (s *Server) opLabelParameterVersion(c *call) (any, *apiError) {
	var in labelInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	p, v, e := s.labelTarget(in, true)
	if e != nil {
		return nil, e
	}
	invalid, add := []string{}, []string{}
	for _, l := range in.Labels {
		switch {
		case !validLabel(l):
			invalid = append(invalid, l)
		case !slices.Contains(v.labels, l) && !slices.Contains(add, l):
			add = append(add, l)
		}
	}
	if len(v.labels)+len(add) > maxLabelsPerVer {
		return nil, newError("ParameterVersionLabelLimitExceeded", ssmLabelLimitMessage)
	}
	for _, l := range add {
		if old := p.labelled(l); old != nil {
			old.labels = slices.DeleteFunc(old.labels, func(x string) bool { return x == l })
		}
		v.labels = append(v.labels, l)
	}
	return struct {
		InvalidLabels    []string
		ParameterVersion int64
	}{invalid, v.version}, nil
}

// opUnlabelParameterVersion removes labels from a version; those it does
// not carry come back in InvalidLabels.
func (s *Server) opUnlabelParameterVersion(c *call) (any, *apiError) {
	var in labelInput
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	_, v, e := s.labelTarget(in, false)
	if e != nil {
		return nil, e
	}
	removed, invalid := []string{}, []string{}
	for _, l := range in.Labels {
		if i := slices.Index(v.labels, l); i >= 0 {
			v.labels = slices.Delete(v.labels, i, i+1)
			removed = append(removed, l)
		} else if !slices.Contains(removed, l) {
			invalid = append(invalid, l)
		}
	}
	return struct {
		RemovedLabels []string
		InvalidLabels []string
	}{removed, invalid}, nil
}
