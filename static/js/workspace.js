// The officers' pages: a step that closes a case asks for confirmation first, and a form is sent once
// (a double click would send the same step twice; the server takes it once and says so, but the second
// answer would wait). After errors the focus goes to the first one, as on the citizen's form.
// (A file, not an onsubmit attribute, so the admin's Content-Security-Policy need not allow inline handlers.)

// Whether this submit replaces the page. A submit into another window ("Voorbeeld PDF", formtarget=_blank) or
// one whose answer is a download (data-download, e.g. "Inzage downloaden") leaves the page and its form as they
// were: locking the form then would swallow every later button of it, with nothing posted and nothing said.
function replacesPage(form, submitter) {
    const target = (submitter && submitter.hasAttribute("formtarget") ? submitter.getAttribute("formtarget") : form.getAttribute("target")) || "_self";
    const download = (submitter && submitter.hasAttribute("data-download")) || form.hasAttribute("data-download");
    return target.toLowerCase() === "_self" && !download;
}

document.addEventListener("submit", (event) => {
    const form = event.target.closest("form");
    if (!form) {
        return;
    }
    if (form.matches("[data-confirm]") && !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
    }
    if (form.dataset.sent === "yes" && form.method.toLowerCase() === "post") {
        event.preventDefault();
        return;
    }
    if (form.method.toLowerCase() === "post" && replacesPage(form, event.submitter)) {
        form.dataset.sent = "yes";
        // Sent again after the browser's Back button (a page from the cache): allowed once more.
        window.addEventListener("pageshow", () => { form.dataset.sent = ""; }, { once: true });
    }
});

document.addEventListener("DOMContentLoaded", () => {
    const invalid = document.querySelector("main [aria-invalid=true], main .error-message, main .w-field--error input, main .w-field--error textarea, main .w-field--error select");
    const field = invalid && (invalid.matches("input, textarea, select") ? invalid : invalid.closest(".w-field")?.querySelector("input, textarea, select"));
    if (field) {
        field.focus();
    }
});
