package reports

import (
	"net/url"
	"strings"
)

// RedactURL hides the password of a URL with credentials (http://user:secret@host ->
// http://user:xxxxx@host), so that errors and logs naming it do not print the secret.
// Text that is not such a URL is returned as it is.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}

// RedactIn replaces raw, a URL, with its redacted form wherever it appears in s: for
// error text built by libraries that print the URL they were given.
func RedactIn(s, raw string) string {
	if r := RedactURL(raw); r != raw {
		return strings.ReplaceAll(s, raw, r)
	}
	return s
}
