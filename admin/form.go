package admin

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/siemsync/siemsync"
)

// integrationForm is the add/edit form as the user typed it. Numbers stay
// strings so that a bad value is shown back as typed. The token and the
// client key are write-only: they are read from the request and never
// rendered back.
type integrationForm struct {
	ID                 string
	Account            string
	Name               string
	Kind               string
	Enabled            bool
	Audit, Jobs        bool
	URL                string
	TokenSet           bool
	Index              string
	Sourcetype         string
	Source             string
	Ack                bool
	AckTimeout         string
	Address            string
	Protocol           string
	Framing            string
	MinSeverity        string
	Channel            string
	AuditEvents        string // one pattern a line
	JobStatuses        []string
	JobTypes           string // one type a line
	Heartbeat          bool
	CAPEM              string
	ClientCertPEM      string
	ClientKeySet       bool
	RemoveClientCert   bool
	InsecureSkipVerify bool
	ServerName         string
	Gzip               bool
	MaxBatchBytes      string
	MaxBatchEvents     string
	BackfillSince      string
	CreateAccount      bool // create only: make the typed account if it is new
	Profile            string
	NotifyURLSet       bool
	NotifyHost         string
	RemoveNotifyURL    bool
	AlertAfter         string

	token, clientKey, notifyURL string
	urlToken                    bool // the typed URL carried a token (splunk:// form)

	// Errors maps a field's JSON name to its message.
	Errors map[string]string
	// SecretsDropped says a typed token or key was not kept for the re-shown form.
	SecretsDropped bool
}

// maxPEMUpload bounds one uploaded certificate or key file.
const maxPEMUpload = 256 << 10

func newForm(account string) *integrationForm {
	def := siemsync.NewIntegration()
	return &integrationForm{
		Account: account, Kind: string(siemsync.KindHEC), Enabled: def.Enabled, Gzip: def.Gzip,
		Audit: def.HasSource(siemsync.SourceAudit), Jobs: def.HasSource(siemsync.SourceJobs),
		Protocol: "tls", Framing: siemsync.DefaultSyslogFraming, MinSeverity: "0",
		Sourcetype:     siemsync.DefaultSourcetype,
		MaxBatchBytes:  strconv.Itoa(siemsync.DefaultMaxBatchBytes),
		MaxBatchEvents: strconv.Itoa(siemsync.DefaultMaxBatchEvents),
		AckTimeout:     siemsync.DefaultAckTimeout.String(),
		Profile:        siemsync.ProfileSiemsync,
		AlertAfter:     siemsync.DefaultAlertAfter.String(),
	}
}

func formFrom(in *siemsync.Integration) *integrationForm {
	f := &integrationForm{
		ID: in.ID, Account: in.Account, Name: in.Name, Kind: string(in.Kind), Enabled: in.Enabled,
		Audit: in.HasSource(siemsync.SourceAudit), Jobs: in.HasSource(siemsync.SourceJobs),
		URL: in.URL, TokenSet: in.TokenSet, Index: in.Index, Sourcetype: in.Sourcetype, Source: in.Source,
		Ack: in.Ack, Address: in.Address, Protocol: in.Protocol, Framing: in.Framing,
		MinSeverity: strconv.Itoa(in.MinSeverity), CAPEM: in.CAPEM, ClientCertPEM: in.ClientCertPEM,
		Channel: in.Channel, AuditEvents: strings.Join(in.AuditEvents, "\n"), JobStatuses: in.JobStatuses,
		JobTypes: strings.Join(in.JobTypes, "\n"), Heartbeat: in.Heartbeat,
		ClientKeySet: in.ClientKeySet, InsecureSkipVerify: in.InsecureSkipVerify, ServerName: in.ServerName,
		Gzip: in.Gzip, MaxBatchBytes: strconv.Itoa(in.MaxBatchBytes), MaxBatchEvents: strconv.Itoa(in.MaxBatchEvents),
	}
	if in.AckTimeout != 0 {
		f.AckTimeout = in.AckTimeout.D().String()
	}
	f.Profile, f.NotifyURLSet, f.NotifyHost = in.Profile, in.NotifyURLSet, in.NotifyHost
	if in.AlertAfter != 0 {
		f.AlertAfter = in.AlertAfter.D().String()
	}
	if f.Protocol == "" {
		f.Protocol = "tls"
	}
	if f.Framing == "" {
		f.Framing = siemsync.DefaultSyslogFraming
	}
	return f
}

// parseForm reads the submitted form (urlencoded or multipart, with
// certificate files) over f, which holds the stored values on edit.
func (f *integrationForm) parse(r *http.Request, create bool) error {
	if r.MultipartForm == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(MaxFormBody); err != nil {
			return err
		}
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	on := func(k string) bool { return r.PostFormValue(k) != "" }
	if create {
		f.Account, f.Enabled, f.BackfillSince = v("account"), on("enabled"), v("backfill_since")
		f.CreateAccount = on("create_account")
	}
	f.Name, f.Kind = v("name"), v("kind")
	f.Audit, f.Jobs = on("source_audit"), on("source_jobs")
	f.URL, f.Index, f.Sourcetype, f.Source = v("url"), v("index"), v("sourcetype"), v("source")
	f.Ack, f.AckTimeout = on("ack"), v("ack_timeout")
	f.Address, f.Protocol, f.Framing, f.MinSeverity = v("address"), v("protocol"), v("framing"), v("min_severity")
	f.InsecureSkipVerify, f.ServerName, f.Gzip = on("insecure_skip_verify"), v("server_name"), on("gzip")
	f.MaxBatchBytes, f.MaxBatchEvents = v("max_batch_bytes"), v("max_batch_events")
	f.RemoveClientCert = on("remove_client_cert")
	f.Channel, f.Heartbeat = v("channel"), on("heartbeat")
	f.AuditEvents, f.JobTypes = v("audit_events"), v("job_types")
	f.JobStatuses = nil
	for _, st := range siemsync.JobStatuses {
		if on("job_status_" + st) {
			f.JobStatuses = append(f.JobStatuses, st)
		}
	}
	f.Profile, f.AlertAfter, f.RemoveNotifyURL = v("profile"), v("alert_after"), on("remove_notify_url")
	f.token, f.notifyURL = v("token"), v("notify_url")
	var err error
	if f.CAPEM, err = pemField(r, "ca_pem"); err != nil {
		return err
	}
	if f.ClientCertPEM, err = pemField(r, "client_cert_pem"); err != nil {
		return err
	}
	f.clientKey, err = pemField(r, "client_key_pem")
	return err
}

// pemField is the uploaded file of field name+"_file" when one was chosen,
// else the pasted text of the field.
func pemField(r *http.Request, name string) (string, error) {
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File[name+"_file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			if fhs[0].Size > maxPEMUpload {
				return "", siemsync.Invalid(name, "file is larger than 256 KiB: choose the PEM file itself")
			}
			fh, err := fhs[0].Open()
			if err != nil {
				return "", err
			}
			defer fh.Close()
			b, err := io.ReadAll(io.LimitReader(fh, maxPEMUpload))
			if err != nil {
				return "", err
			}
			return strings.TrimSpace(string(b)), nil
		}
	}
	return strings.TrimSpace(strings.ReplaceAll(r.PostFormValue(name), "\r\n", "\n")), nil
}

func (f *integrationForm) fail(field, msg string) {
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if _, ok := f.Errors[field]; !ok {
		f.Errors[field] = msg
	}
}

// apply copies the form onto in (new, or loaded without secrets) and checks
// it. Problems land in f.Errors, one per field; the result is nil then.
func (f *integrationForm) apply(in *siemsync.Integration, create bool, now time.Time) *siemsync.Integration {
	num := func(field, v string, dst *int) {
		if v == "" {
			*dst = 0
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			f.fail(field, fieldMsg(siemsync.Invalid(field, "must be a whole number")))
			return
		}
		*dst = n
	}
	if create {
		in.Account, in.Enabled, in.CreateAccount = siemsync.CanonicalID(f.Account), f.Enabled, f.CreateAccount
		if f.BackfillSince != "" {
			t, err := parseFormTime(f.BackfillSince, now)
			if err != nil {
				f.fail("backfill_since", fieldMsg(err))
			}
			in.BackfillSince = t
		}
	}
	if !create {
		if err := siemsync.CheckKindChange(in.Kind, siemsync.Kind(f.Kind)); err != nil {
			f.fail("kind", fieldMsg(err))
		}
	}
	in.Name, in.Kind = f.Name, siemsync.Kind(f.Kind)
	in.Sources = nil
	if f.Audit {
		in.Sources = append(in.Sources, siemsync.SourceAudit)
	}
	if f.Jobs {
		in.Sources = append(in.Sources, siemsync.SourceJobs)
	}
	in.URL, in.Index, in.Sourcetype, in.Source = f.URL, f.Index, f.Sourcetype, f.Source
	in.Ack = f.Ack
	if d, err := parseDuration("ack_timeout", f.AckTimeout); err != nil {
		f.fail("ack_timeout", fieldMsg(err))
	} else {
		in.AckTimeout = d
	}
	in.Address, in.Protocol, in.Framing = f.Address, f.Protocol, f.Framing
	if in.Kind != siemsync.KindSyslog {
		// The form always carries the syslog selects; a HEC integration
		// stores none, as through the CLI and the API.
		in.Protocol, in.Framing = "", ""
	}
	num("min_severity", f.MinSeverity, &in.MinSeverity)
	in.Channel, in.Heartbeat, in.JobStatuses = f.Channel, f.Heartbeat, f.JobStatuses
	in.AuditEvents, in.JobTypes = lines(f.AuditEvents), lines(f.JobTypes)
	in.CAPEM, in.ClientCertPEM, in.ServerName = f.CAPEM, f.ClientCertPEM, f.ServerName
	in.InsecureSkipVerify, in.Gzip = f.InsecureSkipVerify, f.Gzip
	num("max_batch_bytes", f.MaxBatchBytes, &in.MaxBatchBytes)
	num("max_batch_events", f.MaxBatchEvents, &in.MaxBatchEvents)
	if f.token != "" {
		in.Token = f.token
	}
	f.applyAlerts(in)
	if f.RemoveClientCert {
		in.ClientCertPEM, in.ClientKeyPEM, in.ClientKeySet = "", "", false
		f.ClientCertPEM = ""
	} else if f.clientKey != "" {
		in.ClientKeyPEM = f.clientKey
	}
	in.ApplyDefaults()
	f.required(in, create)
	if err := in.Validate(); err != nil {
		f.fieldErr(err)
	}
	// A splunk:// URL may carry the token: never show it back.
	if red := siemsync.RedactHECURL(f.URL); red != f.URL {
		f.URL, f.urlToken = red, true
	}
	if len(f.Errors) > 0 {
		return nil
	}
	return in
}

// applyAlerts copies the profile and alert settings. The profile select
// sits in the HEC panel: a syslog integration keeps the default.
func (f *integrationForm) applyAlerts(in *siemsync.Integration) {
	in.Profile = f.Profile
	if in.Kind == siemsync.KindSyslog {
		in.Profile = siemsync.ProfileSiemsync
	}
	switch {
	case f.notifyURL != "":
		in.NotifyURL, in.NotifyURLSet = f.notifyURL, true
	case f.RemoveNotifyURL:
		in.NotifyURL, in.NotifyURLSet = "", false
	}
	if d, err := parseDuration("alert_after", f.AlertAfter); err != nil {
		f.fail("alert_after", fieldMsg(err))
	} else {
		in.AlertAfter = d
	}
}

// required flags every missing required field at once; Validate stops at
// the first problem, and a person fixing a form wants to see them all.
func (f *integrationForm) required(in *siemsync.Integration, create bool) {
	miss := func(field, msg string) { f.fail(field, fieldMsg(siemsync.Invalid(field, "%s", msg))) }
	if create && in.Account == "" {
		miss("account", "is required: choose the account this integration belongs to")
	}
	if strings.TrimSpace(in.Name) == "" {
		miss("name", "is required")
	}
	if len(in.Sources) == 0 {
		miss("sources", "choose at least one of audit, jobs")
	}
	switch in.Kind {
	case siemsync.KindHEC:
		if in.URL == "" {
			miss("url", "is required: the HEC URL, e.g. https://splunk.example.com:8088")
		}
		if !in.TokenSet && in.Token == "" {
			miss("token", "is required: the HEC token from Splunk (Settings > Data inputs > HTTP Event Collector)")
		}
	case siemsync.KindSyslog:
		if in.Address == "" {
			miss("address", "is required: host:port of the syslog server, e.g. siem.example.com:6514")
		}
	}
}

// fieldErr records a validation or store error against its field; an error
// without a field goes under "".
func (f *integrationForm) fieldErr(err error) {
	var fe *siemsync.FieldError
	if errors.As(err, &fe) {
		f.fail(fe.Field, fieldMsg(err))
		return
	}
	f.fail("", err.Error())
}

// fieldLabels are the form's names for fields, used to start messages.
var fieldLabels = map[string]string{
	"account": "Account", "name": "Name", "kind": "Kind", "sources": "Data sources", "url": "HEC URL",
	"token": "HEC token", "index": "Index", "sourcetype": "Sourcetype", "source": "Source",
	"ack_timeout": "Acknowledgement timeout", "address": "Address", "protocol": "Protocol",
	"framing": "Framing", "min_severity": "Minimum severity", "ca_pem": "CA certificate",
	"client_cert_pem": "Client certificate", "client_key_pem": "Client key",
	"max_batch_bytes": "Max batch size", "max_batch_events": "Max events per batch",
	"backfill_since": "Backfill since", "server_name": "Server name",
	"profile": "Event fields", "notify_url": "Alert webhook", "alert_after": "Alert after",
	"channel": "Channel", "audit_events": "Audit events", "job_statuses": "Job statuses", "job_types": "Job types",
}

// lines splits a textarea into its non-empty lines, trimmed.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// StatusChoice is one job status checkbox of the form.
type StatusChoice struct {
	Value   string
	Checked bool
}

// StatusChoices are the job status checkboxes, in the order of the spec.
func (f *integrationForm) StatusChoices() []StatusChoice {
	out := make([]StatusChoice, 0, len(siemsync.JobStatuses))
	for _, st := range siemsync.JobStatuses {
		out = append(out, StatusChoice{Value: st, Checked: slices.Contains(f.JobStatuses, st)})
	}
	return out
}

// fieldMsg is the message of a FieldError as a sentence that starts with the
// field's label: "HEC URL is required: ...".
func fieldMsg(err error) string {
	var fe *siemsync.FieldError
	if !errors.As(err, &fe) {
		return err.Error()
	}
	if l, ok := fieldLabels[fe.Field]; ok {
		return l + " " + fe.Msg
	}
	if fe.Msg == "" {
		return "Invalid value"
	}
	return strings.ToUpper(fe.Msg[:1]) + fe.Msg[1:]
}

// parseFormTime reads a datetime-local value (taken as UTC) or RFC 3339.
func parseFormTime(v string, now time.Time) (*time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return parseBackfill(t.Format(time.RFC3339), now)
		}
	}
	return parseBackfill(v, now)
}
