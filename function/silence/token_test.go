package silence

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
)

const secret = "0123456789abcdef0123456789abcdef-test"

var req = Request{Rule: "zero-clicks", Template: "1100AB*", Language: "en", Button: "Shop [now]",
	TemplateName: "Black Friday", For: 7 * 24 * time.Hour}

func TestTokenRoundTrip(t *testing.T) {
	tok := req.Sign(secret, t0)
	got, exp, err := Verify(secret, tok, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got != req {
		t.Errorf("Verify = %+v, want %+v", got, req)
	}
	if !exp.Equal(t0.Add(TokenTTL)) {
		t.Errorf("expires %v, want %v", exp, t0.Add(TokenTTL))
	}
	if strings.Contains(tok, secret) {
		t.Error("the token holds the secret")
	}
}

// TestTokenAlteredEverywhere: every character of the token, replaced by
// every other character of its alphabet, and every truncation, is refused.
func TestTokenAlteredEverywhere(t *testing.T) {
	tok := req.Sign(secret, t0)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %"
	now := t0.Add(time.Hour)
	tried := 0
	for i := range len(tok) {
		for _, c := range alphabet {
			if byte(c) == tok[i] {
				continue
			}
			alt := tok[:i] + string(c) + tok[i+1:]
			tried++
			if _, _, err := Verify(secret, alt, now); !errors.Is(err, ErrBadToken) {
				t.Fatalf("position %d changed to %q: err %v, want ErrBadToken", i, c, err)
			}
		}
		if _, _, err := Verify(secret, tok[:i], now); !errors.Is(err, ErrBadToken) {
			t.Fatalf("truncated to %d: err %v", i, err)
		}
	}
	for _, alt := range []string{tok + "A", tok + ".", "." + tok, strings.Replace(tok, ".", "..", 1)} {
		if _, _, err := Verify(secret, alt, now); !errors.Is(err, ErrBadToken) {
			t.Errorf("%q: err %v", alt, err)
		}
	}
	if tried < 1000 {
		t.Fatalf("only %d alterations tried", tried)
	}
}

func TestTokenRefused(t *testing.T) {
	other := req
	other.Template = "OTHER"
	otherTok := other.Sign(secret, t0)
	p, _, _ := strings.Cut(req.Sign(secret, t0), ".")
	_, otherSig, _ := strings.Cut(otherTok, ".")
	long := req
	long.For = MaxDuration + time.Hour
	for _, tc := range []struct {
		name, secret, token string
		at                  time.Time
		want                error
	}{
		{"expired", secret, req.Sign(secret, t0), t0.Add(TokenTTL), ErrExpiredToken},
		{"long expired", secret, req.Sign(secret, t0), t0.Add(30 * 24 * time.Hour), ErrExpiredToken},
		{"another key", secret + "x", req.Sign(secret, t0), t0, ErrBadToken},
		{"another alert's signature", secret, p + "." + otherSig, t0, ErrBadToken},
		{"a Slack value", secret, req.Value(), t0, ErrBadToken},
		{"too long a silence", secret, long.Sign(secret, t0), t0, ErrBadToken},
		{"empty", secret, "", t0, ErrBadToken},
	} {
		if _, _, err := Verify(tc.secret, tc.token, tc.at); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
	if got, _, err := Verify(secret, otherTok, t0); err != nil || got.Template != "OTHER" {
		t.Errorf("another alert's own token names that alert: %+v, %v", got, err)
	}
}

func TestValue(t *testing.T) {
	v := req.Value()
	if len(v) > 2000 {
		t.Errorf("value is %d characters; Slack allows 2000", len(v))
	}
	got, err := ParseValue(v)
	if err != nil || got != req {
		t.Fatalf("ParseValue = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "s1.", "s2." + v[3:], v[:len(v)-3], "s1.e30"} {
		if _, err := ParseValue(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("ParseValue(%q) = %v", bad, err)
		}
	}
}

// TestMatchExact: the silence a request makes matches that alert only, even
// when its code or button text looks like a glob.
func TestMatchExact(t *testing.T) {
	s := Silence{Match: req.Match()}
	if !s.Matches(req.Rule, req.Template, req.Language, req.Button) {
		t.Error("the request's silence does not match its own alert")
	}
	for _, alt := range [][4]string{
		{req.Rule, "1100ABC", req.Language, req.Button},
		{req.Rule, req.Template, req.Language, "Shop n"},
		{req.Rule, req.Template, "es", req.Button},
		{"read-rate-drop", req.Template, req.Language, req.Button},
	} {
		if s.Matches(alt[0], alt[1], alt[2], alt[3]) {
			t.Errorf("matches another alert %v", alt)
		}
	}
}

func TestOffers(t *testing.T) {
	it := &alert.Item{Rule: "zero-clicks", Template: "1100AB", Language: "en", Button: "Shop", State: alert.Firing}
	o := &Offers{ActionURL: "https://alerts.example.com/", Secret: secret, SlackEnabled: true, Issued: t0}
	sl := o.Slack(it, "en")
	if len(sl) != 2 || sl[0].Label != "Silence 1 day" || sl[1].Label != "Silence 7 days" || sl[1].ActionID != "silence-7d" {
		t.Fatalf("Slack offers %+v", sl)
	}
	if r, err := ParseValue(sl[1].Value); err != nil || r.Template != "1100AB" || r.Button != "Shop" || r.For != 7*24*time.Hour {
		t.Errorf("Slack value decodes to %+v, %v", r, err)
	}
	dt := o.DingTalk(it, "Black Friday", "zh-CN")
	if len(dt) != 2 || dt[0].Label != "静默 1 天" || !strings.HasPrefix(dt[0].URL, "https://alerts.example.com/silence?token=") {
		t.Fatalf("DingTalk offers %+v", dt)
	}
	tok := strings.TrimPrefix(dt[0].URL, "https://alerts.example.com/silence?token=")
	if r, exp, err := Verify(secret, tok, t0.Add(time.Hour)); err != nil || r.TemplateName != "Black Friday" || !exp.Equal(t0.Add(TokenTTL)) {
		t.Errorf("the link's token: %+v, %v, %v", r, exp, err)
	}
	preview := *o
	preview.Preview = true
	if dt := preview.DingTalk(it, "", "en"); len(dt) != 2 || !strings.HasSuffix(dt[0].URL, "?token="+PreviewToken) {
		t.Errorf("a preview's links %+v: want the placeholder, not a token", dt)
	}
	for name, o := range map[string]*Offers{
		"no ACTION_URL": {Secret: secret, SlackEnabled: true}, "nothing": {}, "nil": nil,
	} {
		if len(o.Slack(it, "en"))+len(o.DingTalk(it, "", "en")) != 0 {
			t.Errorf("%s: offers made", name)
		}
	}
	if len((&Offers{ActionURL: "https://a.example.com", Secret: secret}).Slack(it, "en")) != 0 {
		t.Error("Slack buttons without SLACK_SIGNING_SECRET")
	}
	resolved := *it
	resolved.State = alert.Resolved
	if len(o.Slack(&resolved, "en"))+len(o.DingTalk(&resolved, "", "en")) != 0 {
		t.Error("a resolved alert offers a silence")
	}
}
