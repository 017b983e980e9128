package siemsync_test

import (
	"errors"
	"testing"
	"time"

	"github.com/siemsync/siemsync"
)

func TestValidateProfileAndAlerts(t *testing.T) {
	base := func(kind siemsync.Kind) *siemsync.Integration {
		in := &siemsync.Integration{Account: "3f0c2a5e-8d7b-4c1e-9f60-2b7a1d4e5c90", Name: "x", Kind: kind,
			Sources: []string{"audit"}, URL: "https://splunk.example.com", Token: "t", Address: "siem.example.com:6514"}
		in.ApplyDefaults()
		return in
	}
	tests := []struct {
		name  string
		kind  siemsync.Kind
		mod   func(*siemsync.Integration)
		field string // "" means valid
	}{
		{"defaults", siemsync.KindHEC, func(*siemsync.Integration) {}, ""},
		{"ocsf on hec", siemsync.KindHEC, func(in *siemsync.Integration) { in.Profile = siemsync.ProfileOCSF }, ""},
		{"ocsf on syslog: CEF stays CEF", siemsync.KindSyslog, func(in *siemsync.Integration) { in.Profile = siemsync.ProfileOCSF }, "profile"},
		{"unknown profile", siemsync.KindHEC, func(in *siemsync.Integration) { in.Profile = "ecs" }, "profile"},
		{"webhook", siemsync.KindHEC, func(in *siemsync.Integration) { in.NotifyURL = "https://hooks.slack.com/services/T/B/X" }, ""},
		{"webhook on syslog", siemsync.KindSyslog, func(in *siemsync.Integration) { in.NotifyURL = "http://alerts.example.com/hook" }, ""},
		{"webhook not http", siemsync.KindHEC, func(in *siemsync.Integration) { in.NotifyURL = "ftp://x/y" }, "notify_url"},
		{"webhook relative", siemsync.KindHEC, func(in *siemsync.Integration) { in.NotifyURL = "/hook" }, "notify_url"},
		{"webhook with credentials", siemsync.KindHEC, func(in *siemsync.Integration) { in.NotifyURL = "https://u:p@x.example.com/" }, "notify_url"},
		{"webhook with a line break", siemsync.KindHEC, func(in *siemsync.Integration) { in.NotifyURL = "https://x.example.com/\n" }, "notify_url"},
		{"webhook too long", siemsync.KindHEC, func(in *siemsync.Integration) {
			in.NotifyURL = "https://x.example.com/" + string(make([]byte, siemsync.MaxNotifyURLLen))
		}, "notify_url"},
		{"alert_after too short", siemsync.KindHEC, func(in *siemsync.Integration) { in.AlertAfter = siemsync.Duration(time.Millisecond) }, "alert_after"},
		{"alert_after too long", siemsync.KindHEC, func(in *siemsync.Integration) { in.AlertAfter = siemsync.Duration(31 * 24 * time.Hour) }, "alert_after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base(tt.kind)
			tt.mod(in)
			err := in.Validate()
			var fe *siemsync.FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("error %v, want one on %s", err, tt.field)
			}
		})
	}
}

func TestDefaultsOfProfileAndAlerts(t *testing.T) {
	in := &siemsync.Integration{Kind: siemsync.KindHEC}
	in.ApplyDefaults()
	if in.Profile != siemsync.ProfileSiemsync || in.AlertAfter.D() != 30*time.Minute {
		t.Errorf("defaults: profile %q alert_after %s", in.Profile, in.AlertAfter.D())
	}
}
