// siemsync admin: small progressive enhancements. Every page works without
// this script; it only hides the fields that do not apply and shows that a
// slow action (test, sync, save) is under way.
(function () {
  'use strict';

  // Show the fieldsets of the chosen destination kind; TLS options are
  // hidden for plain-TCP syslog.
  function syncKind(form) {
    var checked = form.querySelector('input[name="kind"]:checked');
    if (!checked) { return; }
    var kind = checked.value;
    form.querySelectorAll('[data-kind]').forEach(function (el) {
      el.hidden = el.getAttribute('data-kind') !== kind;
    });
    var proto = form.querySelector('select[name="protocol"]');
    var tls = form.querySelector('[data-tls]');
    if (tls) {
      tls.hidden = kind === 'syslog_cef' && proto !== null && proto.value === 'tcp';
    }
  }

  document.querySelectorAll('form').forEach(function (form) {
    if (!form.querySelector('input[name="kind"]')) { return; }
    syncKind(form);
    form.addEventListener('change', function (e) {
      if (e.target.name === 'kind' || e.target.name === 'protocol') { syncKind(form); }
    });
    // Put the cursor on the first field with an error.
    var bad = form.querySelector('[aria-invalid="true"]');
    if (bad) { bad.focus(); }
  });

  // Busy state: one submit per form, and the button says what happens.
  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (form.dataset.submitted) { e.preventDefault(); return; }
    form.dataset.submitted = '1';
    var btn = e.submitter || form.querySelector('button[type="submit"]');
    var label = (btn && btn.getAttribute('data-busy')) || form.getAttribute('data-busy');
    if (!btn) { return; }
    window.setTimeout(function () {
      btn.disabled = true;
      btn.classList.add('is-busy');
      if (label) { btn.dataset.label = btn.textContent; btn.textContent = label; }
    }, 0);
  });

  // A page that follows progress (a running replay) reloads itself. The
  // meta refresh does it without script; a refresh of a URL with a
  // #fragment only scrolls in some browsers, so reload here too.
  var refresh = document.querySelector('meta[http-equiv="refresh"]');
  if (refresh) {
    var secs = parseInt(refresh.getAttribute('content'), 10) || 2;
    window.setTimeout(function () { window.location.reload(); }, secs * 1000 + 200);
  }

  // Back/forward cache: undo the busy state of a restored page.
  window.addEventListener('pageshow', function () {
    document.querySelectorAll('form[data-submitted]').forEach(function (form) {
      delete form.dataset.submitted;
      form.querySelectorAll('button.is-busy').forEach(function (btn) {
        btn.disabled = false;
        btn.classList.remove('is-busy');
        if (btn.dataset.label) { btn.textContent = btn.dataset.label; }
      });
    });
  });
})();
