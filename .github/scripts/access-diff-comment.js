// The pull request's access-diff comment: posted once, then updated on every run, whatever
// the diff's verdict. The workflow (pull-request.yml) calls it from actions/github-script.
//
// Only a comment that carries MARKER and was written by this workflow's own bot is ever
// updated: another comment of the same bot (a Pulumi preview, say), or someone quoting the
// marker, is never touched. REST calls as documented for issue comments: list
// (GET /repos/{owner}/{repo}/issues/{issue_number}/comments), update (PATCH .../comments/{id}),
// create (POST .../issues/{issue_number}/comments).
"use strict";

const fs = require("node:fs");

const MARKER = "<!-- opshub:access-diff -->";
const BOT = "github-actions[bot]"; // the author of comments made with the workflow's GITHUB_TOKEN

function isOurs(comment) {
  return Boolean(comment.user && comment.user.login === BOT && comment.user.type === "Bot" && (comment.body || "").includes(MARKER));
}

// The comment's text: the diff `opshub access-diff` wrote, or why there is none.
function commentBody({ diffFile, errorFile, exitCode, runUrl }) {
  const diff = fs.existsSync(diffFile) ? fs.readFileSync(diffFile, "utf8") : "";
  if (diff && exitCode !== "2") {
    const body = diff.includes(MARKER) ? diff : `${MARKER}\n${diff}`;
    const verdict = exitCode === "0" ? "" : `\n**The access diff found a new mandatory policy finding: this job fails until it is fixed or waived.** ([run](${runUrl}))\n`;
    return body + verdict;
  }
  const error = fs.existsSync(errorFile) ? fs.readFileSync(errorFile, "utf8").trim() : "no output";
  return `${MARKER}\n## Access diff\n\nThe access diff could not be computed (exit ${exitCode || "?"}): a revision does not plan.\n\n\`\`\`\n${error}\n\`\`\`\n\n[The run](${runUrl}) has the details.\n`;
}

// Update our comment if there is one, else create it. Returns what was done.
async function upsertComment({ github, owner, repo, issueNumber, body }) {
  const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 });
  const ours = comments.find(isOurs);
  if (ours) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: ours.id, body });
    return { action: "updated", id: ours.id };
  }
  const created = await github.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
  return { action: "created", id: created.data.id };
}

module.exports = { MARKER, BOT, commentBody, upsertComment };
