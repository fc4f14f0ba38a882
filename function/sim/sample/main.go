// Command sample writes the bundled demo data (testdata/sample): recorded
// GetChatappTemplateMetric responses for a handful of templates whose stories
// the README's "Two commands" section tells. Regenerate with `go run ./function/sim/sample`.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/sim"
)

func main() {
	out := flag.String("out", "testdata/sample", "directory to write")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// The sample's 30 days end with the bucket of Monday 2026-11-23 (Asia/Shanghai
// midnight, as the API's DAILY buckets are), evaluated by
// `run --at 2026-11-24T09:00:00+08:00`.
var start = time.Date(2026, 10, 25, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

const days = 30

func shop() []sim.ButtonSpec {
	return []sim.ButtonSpec{{Type: metrics.URLButton, Text: "Shop now", Rate: 0.09},
		{Type: metrics.QuickReply, Text: "Stop promotions", Rate: 0.01}}
}

var specs = []*sim.Spec{
	// Read rate collapses on the last day: read-rate-drop fires.
	{Code: "1100SHOP0001", Language: "en", Pattern: sim.Daily, Volume: 4000, DeliveryRate: 0.95, ReadRate: 0.62,
		Buttons: shop(), Incident: &sim.Incident{Kind: sim.ReadCollapse, Day: days - 1}},
	// Same template, Spanish: healthy.
	{Code: "1100SHOP0001", Language: "es", Pattern: sim.Daily, Volume: 900, DeliveryRate: 0.94, ReadRate: 0.58, Buttons: shop()},
	// The "Shop now" URL button stops getting clicks: dead-url-button fires.
	{Code: "1100FLASH0002", Language: "en", Pattern: sim.Daily, Volume: 2500, DeliveryRate: 0.96, ReadRate: 0.55,
		Buttons: shop(), Incident: &sim.Incident{Kind: sim.DeadURLButton, Day: days - 1}},
	// A weekday sender that did not send on Monday: sends-stopped fires.
	{Code: "1100WEEK0003", Language: "en", Pattern: sim.Weekdays, Volume: 1500, DeliveryRate: 0.95, ReadRate: 0.5,
		Buttons: shop()[:1], Incident: &sim.Incident{Kind: sim.SendsStopped, Day: days - 1}},
	// A campaign sender between bursts: its gap is planned, nothing fires.
	{Code: "1100BURST0004", Language: "pt_BR", Pattern: sim.Burst, Volume: 8000, DeliveryRate: 0.93, ReadRate: 0.47,
		Buttons: shop(), BurstDays: burstDays()},
	// Forty messages a day: noisy rates, below every volume guard.
	{Code: "1100TINY0005", Language: "en", Pattern: sim.Daily, Volume: 40, DeliveryRate: 0.9, ReadRate: 0.5, Buttons: shop()},
	// Delivery collapses (a number-quality problem): delivery-rate-drop fires.
	{Code: "1100DLV0006", Language: "id", Pattern: sim.Daily, Volume: 6000, DeliveryRate: 0.97, ReadRate: 0.52,
		Buttons: shop(), Incident: &sim.Incident{Kind: sim.DeliveryCollapse, Day: days - 1}},
	// A quiet, healthy newsletter.
	{Code: "1100NEWS0007", Language: "en", Pattern: sim.Weekdays, Volume: 300, DeliveryRate: 0.97, ReadRate: 0.66,
		Buttons: shop()[:1]},
}

// names are the templates' TemplateName, as a marketing team names them in
// the WhatsApp Manager: what people see beside the codes.
var names = map[string]string{
	"1100SHOP0001":  "black_friday_shop_now",
	"1100FLASH0002": "flash_sale_48h",
	"1100WEEK0003":  "weekday_deals",
	"1100BURST0004": "promo_relampago",
	"1100TINY0005":  "vip_early_access",
	"1100DLV0006":   "flash_sale_id",
	"1100NEWS0007":  "monthly_newsletter",
}

func burstDays() map[int]bool {
	m := map[int]bool{}
	for _, d := range []int{1, 4, 6, 9, 13, 15, 18, 21, 24, 27} {
		m[d] = true
	}
	return m
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(20261124, 7))
	byCode := map[string][]*metrics.Series{}
	var order []string
	type tmpl struct {
		TemplateCode, TemplateName, Language, Category, AuditStatus, TemplateType string
	}
	var list []tmpl
	for _, sp := range specs {
		if _, ok := byCode[sp.Code]; !ok {
			order = append(order, sp.Code)
		}
		byCode[sp.Code] = append(byCode[sp.Code], sim.Simulate(r, sp, start, days))
		list = append(list, tmpl{sp.Code, names[sp.Code], sp.Language, "MARKETING", "pass", "WHATSAPP"})
	}
	for _, code := range order {
		b, err := sim.Response(byCode[code]...)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, code+".json"), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(map[string]any{"RequestId": "00000000-0000-0000-0000-000000000001", "Code": "OK",
		"Total": len(list), "ListTemplate": list}, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "templates.json"), append(b, '\n'), 0o644)
}
