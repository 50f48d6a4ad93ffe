// The officers' pages: a step that closes a case asks for confirmation first.
// (A file, not an onsubmit attribute, so the admin's Content-Security-Policy need not allow inline handlers.)
document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
        event.preventDefault();
    }
});
