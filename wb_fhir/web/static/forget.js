// After a person's maps were deleted: this browser forgets its own copies of their drafts too
// (the editor keeps each draft, and a half-filled form, in local storage until it is saved).
const deleted = document.getElementById("deleted");
let forgotten = 0;
for (const id of deleted.dataset.records.split(" ").filter(Boolean)) {
  for (const key of [`wbf-draft-${id}`, `wbf-forms-${id}`]) {
    try {
      if (localStorage.getItem(key) !== null) { localStorage.removeItem(key); forgotten += 1; }
    } catch (e) { /* no storage: nothing kept here */ }
  }
}
if (forgotten) document.getElementById("forgotten-here").textContent = ", and the copies this browser kept.";
