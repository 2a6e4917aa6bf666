package credfile

import (
	"errors"
	"maps"
	"testing"
)

// The file-format cases follow the AWS SDK for Go v2's reader of shared
// files (config/internal/ini: tokenize.go, strings.go, parse.go), which is
// what an SDK consumer of the profile reads: comments start with '#' or ';',
// a section line may end in a comment, "=" or ":" separates a setting with
// any spacing, setting names are case-insensitive, duplicate sections merge
// with the later value winning, and an indented line continues the setting
// above it. In a credentials file "[profile x]" is not profile x: the SDK
// drops such sections (shared_config.go, processCredentialsSections).

func TestSetKey(t *testing.T) {
	const key = "aws_access_key_id = NEW\naws_secret_access_key = S\n"
	tests := []struct {
		name, in, want string
	}{
		{"empty file", "", "[app]\n" + key},
		{
			"replace and keep the rest",
			"# team credentials\n[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[app]\n; rotated by iamkeys\naws_access_key_id=OLD\nAWS_SECRET_ACCESS_KEY = OS\naws_session_token = T\nregion = eu-west-1\n\n[other]\naws_access_key_id = O\n",
			"# team credentials\n[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[app]\n; rotated by iamkeys\n" + key + "region = eu-west-1\n\n[other]\naws_access_key_id = O\n",
		},
		{"append to a file without a trailing newline", "[default]\naws_access_key_id = D", "[default]\naws_access_key_id = D\n\n[app]\n" + key},
		{"no trailing newline is kept", "[app]\naws_access_key_id = OLD\nregion = r", "[app]\n" + key + "region = r"},
		{"append after a blank line", "[default]\nregion = r\n\n", "[default]\nregion = r\n\n[app]\n" + key},
		{
			"CRLF and a comment on the section line",
			"[app] # the deploy key\r\naws_access_key_id = AKIAOLD\r\naws_secret_access_key = old\r\n\r\n[other]\r\nregion = eu-west-1\r\n",
			"[app] # the deploy key\r\naws_access_key_id = NEW\r\naws_secret_access_key = S\r\n\r\n[other]\r\nregion = eu-west-1\r\n",
		},
		{"CRLF in a new profile", "[other]\r\nregion = r\r\n", "[other]\r\nregion = r\r\n\r\n[app]\r\naws_access_key_id = NEW\r\naws_secret_access_key = S\r\n"},
		{
			"duplicate sections: the key lands in the first, the others lose theirs",
			"[app]\naws_access_key_id = A\n\n[other]\nx = 1\n\n[app]\naws_secret_access_key = B\naws_access_key_id = C\nregion = r\n",
			"[app]\n" + key + "\n[other]\nx = 1\n\n[app]\nregion = r\n",
		},
		{
			"[profile app] is config-file syntax, not the profile",
			"[profile app]\naws_access_key_id = P\n",
			"[profile app]\naws_access_key_id = P\n\n[app]\n" + key,
		},
		{"spacing around = and :", "[app]\naws_access_key_id=OLD\naws_secret_access_key \t:  OS\n", "[app]\n" + key},
		{"spaces and tabs around the name", "[ \tapp ]\naws_access_key_id   =   OLD\n", "[ \tapp ]\n" + key},
		{"a quoted value and a value comment", "[app]\naws_access_key_id = \"OLD\" # old key\n", "[app]\n" + key},
		{
			"a profile without a key gets it after its last setting",
			"[app]\nregion = r\n\n# next\n[b]\nx = 1\n",
			"[app]\nregion = r\n" + key + "\n# next\n[b]\nx = 1\n",
		},
		{"a continuation line goes with its setting", "[app]\naws_secret_access_key = abc\n  def\naws_access_key_id = OLD\n", "[app]\n" + key},
		{"an indented setting is a setting", "[app]\nregion = r\n  aws_access_key_id = OLD\n", "[app]\nregion = r\n" + key},
		{"a nested setting is not the profile's", "[app]\ns3 =\n  aws_access_key_id = X\n", "[app]\ns3 =\n  aws_access_key_id = X\n" + key},
		{"a setting before any section is kept", "aws_access_key_id = G\n[app]\n", "aws_access_key_id = G\n[app]\n" + key},
		{"other profiles named alike are untouched", "[app2]\naws_access_key_id = X\n[App]\naws_access_key_id = Y\n", "[app2]\naws_access_key_id = X\n[App]\naws_access_key_id = Y\n\n[app]\n" + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parse([]byte(tt.in))
			if err := f.setKey("app", "NEW", "S"); err != nil {
				t.Fatal(err)
			}
			if got := string(f.bytes()); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestSetKeyRefuses: an edit that would change how another setting reads
// is refused, and the file is left alone. Here the removed session token
// is what kept the indented "nested" a setting of its own; without it,
// "nested" would nest under "s3".
func TestSetKeyRefuses(t *testing.T) {
	in := "[app]\ns3 =\naws_session_token = t\n  nested = 1\n"
	if err := parse([]byte(in)).setKey("app", "NEW", "S"); !errors.Is(err, errLayout) {
		t.Errorf("setKey: %v, want errLayout", err)
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name, in   string
		id, secret string
		found      bool
	}{
		{"missing file", "", "", "", false},
		{"plain", "[app]\naws_access_key_id = A\naws_secret_access_key = S\n", "A", "S", true},
		{"case, quotes, comments, colon", "[app] ; note\nAWS_Access_Key_ID=\"A\" ; old\naws_secret_access_key:S\n", "A", "S", true},
		{"CRLF, no trailing newline", "[app]\r\naws_access_key_id = A\r\naws_secret_access_key = S", "A", "S", true},
		{"a comment line is not a setting", "[app]\n# aws_access_key_id = X\n;aws_access_key_id = Y\n", "", "", true},
		{"duplicates merge, the later value wins", "[app]\naws_access_key_id = A\naws_secret_access_key = S\n[app]\naws_access_key_id = B\n", "B", "S", true},
		{"[profile app] is not app", "[profile app]\naws_access_key_id = P\n", "", "", false},
		{"a continuation line joins the value", "[app]\naws_access_key_id = A\n  B\n", "A\nB", "", true},
		{"an empty section name holds nothing", "[ ]\naws_access_key_id = A\n", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, found := parse([]byte(tt.in)).key("app")
			if id != tt.id || secret != tt.secret || found != tt.found {
				t.Errorf("key = %q, %q, %v; want %q, %q, %v", id, secret, found, tt.id, tt.secret, tt.found)
			}
		})
	}
}

func TestRemoveProfile(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"the last profile", "[app]\nregion = r\n\n[app-pending]\naws_access_key_id = N\naws_secret_access_key = S\n", "[app]\nregion = r\n"},
		{"a profile in the middle, and the comment before the next", "[a]\nx = 1\n\n[app-pending]\naws_access_key_id = N\n\n# b's key\n[b]\ny = 2\n", "[a]\nx = 1\n\n# b's key\n[b]\ny = 2\n"},
		{"every duplicate", "[app-pending]\nk = 1\n[a]\nx = 1\n[app-pending]\nk = 2\n", "[a]\nx = 1\n"},
		{"none", "[a]\nx = 1\n", "[a]\nx = 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parse([]byte(tt.in))
			if err := f.removeProfile("app-pending"); err != nil {
				t.Fatal(err)
			}
			if got := string(f.bytes()); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestProfiles(t *testing.T) {
	got := parse([]byte("x = 1\n[default]\n[profile a]\n[ b ] # c\n[default]\n")).profiles()
	if want := []string{"default", "profile a", "b"}; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("profiles = %q, want %q", got, want)
	}
}

// FuzzSetKey: whatever the file, setKey either makes the profile read back
// as the new key and leaves every other setting as it was,
// or refuses with errLayout.
func FuzzSetKey(f *testing.F) {
	for _, s := range []string{
		"", "[app]\naws_access_key_id = A\n", "[app]\n  x\n", "[app]\ns3 =\n  a = b\n", "[app] #c\r\nk=v",
		"[a]\nk = v\n[app]\n\tk2 = v2\n  cont\n[app]\naws_session_token = t\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		file := parse([]byte(in))
		before := map[string]map[string]string{}
		for name, vals := range file.vals {
			before[name] = maps.Clone(vals)
		}
		if err := file.setKey("app", "AKIANEW", "S3CRET"); err != nil {
			if !errors.Is(err, errLayout) {
				t.Fatal(err)
			}
			return
		}
		again := parse(file.bytes())
		if id, secret, _ := again.key("app"); id != "AKIANEW" || secret != "S3CRET" {
			t.Fatalf("reads back %q", id)
		}
		for name, vals := range before {
			got := again.vals[name]
			if name == "app" {
				vals, got = maps.Clone(vals), maps.Clone(got)
				for _, k := range []string{keyID, keySecret, keyToken} {
					delete(vals, k)
					delete(got, k)
				}
			}
			if !maps.Equal(vals, got) {
				t.Fatalf("profile %q changed: %q, was %q", name, again.vals[name], vals)
			}
		}
	})
}
