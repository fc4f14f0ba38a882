package silence

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
)

// Offered are the silence lengths a message offers for a firing alert.
var Offered = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour}

// Offer is one silence a message offers beside a firing alert: a Slack
// button (Value, for an element whose action_id starts with ActionPrefix)
// or a DingTalk link (URL).
type Offer struct {
	Label    string
	ActionID string
	Value    string
	URL      string
}

// ActionPrefix starts the action_id of every silence element.
const ActionPrefix = "silence"

// Offers makes the offers of one message. The zero value offers nothing.
type Offers struct {
	// ActionURL is the function's public base URL (ACTION_URL).
	ActionURL string
	// Secret signs the DingTalk links (ACTION_SECRET).
	Secret string
	// SlackEnabled is set when Slack can call back (SLACK_SIGNING_SECRET).
	SlackEnabled bool
	// Issued is when the message is sent: links expire TokenTTL after it.
	Issued time.Time
	// Preview marks messages that are only shown (a dry run): their links
	// carry a placeholder, not a usable token, since a token is a secret.
	Preview bool
}

// PreviewToken stands for a link's token in a preview.
const PreviewToken = "TOKEN"

// request is the silence of exactly it for d.
func request(it *alert.Item, templateName string, d time.Duration) Request {
	return Request{Rule: it.Rule, Template: it.Template, Language: it.Language, Button: it.Button,
		TemplateName: templateName, For: d}
}

// Slack offers buttons for a firing alert when Slack can call back.
func (o *Offers) Slack(it *alert.Item, locale string) []Offer {
	if o == nil || o.ActionURL == "" || !o.SlackEnabled || it.State != alert.Firing {
		return nil
	}
	var out []Offer
	for _, d := range Offered {
		out = append(out, Offer{Label: Label(d, locale), ActionID: ActionPrefix + "-" + shortDuration(d),
			Value: request(it, "", d).Value()})
	}
	return out
}

// DingTalk offers signed links for a firing alert when links can be signed.
func (o *Offers) DingTalk(it *alert.Item, templateName, locale string) []Offer {
	if o == nil || o.ActionURL == "" || o.Secret == "" || it.State != alert.Firing {
		return nil
	}
	u, err := url.Parse(o.ActionURL)
	if err != nil {
		return nil
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/silence"
	u.RawPath, u.Fragment = "", ""
	var out []Offer
	for _, d := range Offered {
		q := u.Query()
		tok := PreviewToken
		if !o.Preview {
			tok = request(it, templateName, d).Sign(o.Secret, o.Issued)
		}
		q.Set("token", tok)
		link := *u
		link.RawQuery = q.Encode()
		out = append(out, Offer{Label: Label(d, locale), URL: link.String()})
	}
	return out
}

// Label names a silence length for a button or link.
func Label(d time.Duration, locale string) string {
	days := int(d / (24 * time.Hour))
	switch {
	case locale == "zh-CN" && d%(24*time.Hour) == 0:
		return "静默 " + strconv.Itoa(days) + " 天"
	case locale == "zh-CN":
		return "静默 " + d.String()
	case d == 24*time.Hour:
		return "Silence 1 day"
	case d%(24*time.Hour) == 0:
		return "Silence " + strconv.Itoa(days) + " days"
	}
	return "Silence " + d.String()
}

func shortDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}
