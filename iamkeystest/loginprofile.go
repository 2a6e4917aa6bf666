package iamkeystest

import "github.com/iamkeys/iamkeys/internal/iamerr"

// Login profiles (console passwords), after docs/aws-services-reference.md "Login
// profiles": CreateLoginProfile returns LoginProfile{UserName, CreateDate,
// PasswordResetRequired}, the flag always present; GetLoginProfile the same;
// Update and Delete nothing. The password is checked against the model
// (1–128 characters of [\t\n\r\x20-\xFF]) but not against a password policy,
// and is not kept.

type xmlLoginProfile struct {
	UserName              string `xml:"UserName"`
	CreateDate            string `xml:"CreateDate"`
	PasswordResetRequired bool   `xml:"PasswordResetRequired"`
}

type xmlLoginProfileResult struct {
	LoginProfile xmlLoginProfile `xml:"LoginProfile"`
}

func noSuchLoginProfile(user string) *apiError {
	// The capital U differs from the duplicate's text, as recorded.
	return newError(iamerr.NoSuchEntity, "Login Profile for User "+user+" cannot be found.")
}

// password validates a Password parameter (passwordType).
func (v *validator) password(val string) {
	if v.length("password", val, 1, 128) {
		for _, r := range val {
			if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
				v.add("password", `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)
				return
			}
		}
	}
}

// loginProfileUser validates UserName (optional: the caller's own user) and,
// for Create and Update, Password, then resolves the user.
func (s *Server) loginProfileUser(c *call, passwordRequired bool) (*user, *apiError) {
	var v validator
	optionalUser(c, &v)
	if passwordRequired {
		if v.required(c, "Password", "password") {
			v.password(c.form.Get("Password"))
		}
	} else if c.has("Password") {
		v.password(c.form.Get("Password"))
	}
	return s.dependentOwner(c, &v)
}

func (s *Server) xmlLoginProfileOf(u *user) xmlLoginProfileResult {
	return xmlLoginProfileResult{LoginProfile: xmlLoginProfile{
		UserName:              u.name,
		CreateDate:            isoTime(u.login.created),
		PasswordResetRequired: u.login.resetRequired,
	}}
}

func (s *Server) opCreateLoginProfile(c *call) (any, *apiError) {
	u, e := s.loginProfileUser(c, true)
	if e != nil {
		return nil, e
	}
	if u.login != nil {
		return nil, newError(iamerr.EntityAlreadyExists, "Login Profile for user "+u.name+" already exists.")
	}
	u.login = &loginProfile{created: s.now(), resetRequired: c.form.Get("PasswordResetRequired") == "true"}
	s.emit(c, Event{Action: c.action, UserName: u.name})
	return s.xmlLoginProfileOf(u), nil
}

func (s *Server) opGetLoginProfile(c *call) (any, *apiError) {
	u, e := s.loginProfileUser(c, false)
	if e != nil {
		return nil, e
	}
	if u.login == nil {
		return nil, noSuchLoginProfile(u.name)
	}
	return s.xmlLoginProfileOf(u), nil
}

func (s *Server) opUpdateLoginProfile(c *call) (any, *apiError) {
	u, e := s.loginProfileUser(c, false)
	if e != nil {
		return nil, e
	}
	if u.login == nil {
		return nil, noSuchLoginProfile(u.name)
	}
	if c.has("PasswordResetRequired") {
		u.login.resetRequired = c.form.Get("PasswordResetRequired") == "true"
	}
	s.emit(c, Event{Action: c.action, UserName: u.name})
	return nil, nil
}

func (s *Server) opDeleteLoginProfile(c *call) (any, *apiError) {
	u, e := s.loginProfileUser(c, false)
	if e != nil {
		return nil, e
	}
	if u.login == nil {
		return nil, noSuchLoginProfile(u.name)
	}
	u.login = nil
	s.emit(c, Event{Action: c.action, UserName: u.name})
	return nil, nil
}
