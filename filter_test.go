package siemsync

import "testing"

func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"Sign in*", "Sign in", true}, {"Sign in*", "Sign in failed", true}, {"sign IN*", "Sign in failed", true},
		{"Sign in*", "User Sign in", false}, {"*failed", "Sign in failed", true}, {"*in*", "Export /a/b in x", true},
		{"Export ?", "Export A", true}, {"Export ?", "Export AB", false}, {"Exact", "Exact", true}, {"Exact", "Exact!", false},
		{`Cost \*`, "Cost *", true}, {`Cost \*`, "Cost 5", false}, {"*", "", true}, {"", "", true}, {"", "x", false},
		{"a*b*c", "a-b-b-c", true}, {"a*b*c", "a-b-b-d", false}, {"Zoë*", "zOË logged in", true},
	} {
		if got := GlobMatch(tt.p, tt.s); got != tt.want {
			t.Errorf("GlobMatch(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
		}
	}
}

func TestKeeps(t *testing.T) {
	audit := func(ev string) *Event { return &Event{Audit: &Audit{Event: ev}} }
	job := func(status, typ string) *Event { return &Event{Job: &Job{Status: status, Type: typ}} }
	hb := &Event{Heartbeat: &Heartbeat{}}
	tests := []struct {
		name string
		in   Integration
		ev   *Event
		want bool
	}{
		{"no filter keeps audit", Integration{}, audit("x"), true},
		{"no filter keeps job", Integration{}, job(JobScheduled, ""), true},
		{"pattern keeps match", Integration{AuditEvents: []string{"Sign in*", "Export*"}}, audit("Export started"), true},
		{"pattern drops other", Integration{AuditEvents: []string{"Sign in*"}}, audit("Export started"), false},
		{"audit patterns do not touch jobs", Integration{AuditEvents: []string{"Sign in*"}}, job(JobSuccessful, "backup"), true},
		{"status keeps", Integration{JobStatuses: []string{JobUnsuccessful}}, job(JobUnsuccessful, "backup"), true},
		{"status drops", Integration{JobStatuses: []string{JobUnsuccessful}}, job(JobSuccessful, "backup"), false},
		{"type drops", Integration{JobTypes: []string{"restore"}}, job(JobSuccessful, "backup"), false},
		{"type keeps", Integration{JobTypes: []string{"restore", "backup"}}, job(JobSuccessful, "backup"), true},
		{"min severity drops audit (3)", Integration{MinSeverity: 4}, audit("x"), false},
		{"min severity keeps audit at 3", Integration{MinSeverity: 3}, audit("x"), true},
		{"min severity keeps cancelled (4)", Integration{MinSeverity: 4}, job(JobCancelled, ""), true},
		{"min severity drops successful (1)", Integration{MinSeverity: 4}, job(JobSuccessful, ""), false},
		{"heartbeat always passes", Integration{MinSeverity: 10, AuditEvents: []string{"x"}, JobStatuses: []string{JobCancelled}}, hb, true},
	}
	for _, tt := range tests {
		if got := tt.in.Keeps(tt.ev); got != tt.want {
			t.Errorf("%s: Keeps = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidateFilters(t *testing.T) {
	base := func() *Integration {
		in := hecIntegration("https://s.example.com:8088", destToken)
		in.ApplyDefaults()
		return in
	}
	for _, tt := range []struct {
		field string
		mod   func(*Integration)
	}{
		{"min_severity", func(in *Integration) { in.MinSeverity = 11 }},
		{"min_severity", func(in *Integration) { in.MinSeverity = -1 }},
		{"job_statuses", func(in *Integration) { in.JobStatuses = []string{"done"} }},
		{"audit_events", func(in *Integration) { in.AuditEvents = []string{`Sign in\`} }},
		{"audit_events", func(in *Integration) { in.AuditEvents = []string{""} }},
		{"job_types", func(in *Integration) { in.JobTypes = []string{"a\nb"} }},
		{"job_types", func(in *Integration) { in.JobTypes = make([]string, 101) }},
	} {
		in := base()
		tt.mod(in)
		err := in.Validate()
		if fe, ok := err.(*FieldError); !ok || fe.Field != tt.field {
			t.Errorf("want an error on %s, got %v", tt.field, err)
		}
	}
	in := base()
	in.MinSeverity, in.JobStatuses, in.AuditEvents, in.JobTypes = 10, []string{JobCancelled}, []string{"Sign in*"}, []string{"backup"}
	if err := in.Validate(); err != nil {
		t.Errorf("valid filters refused on HEC: %v", err)
	}
}
