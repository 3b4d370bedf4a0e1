// One pull-request comment with `flowers check`'s verdict, updated in place on every push rather
// than posted again: the comment is found by a hidden marker on its first line.  Run by
// actions/github-script in .github/workflows/ci.yml:
//   await require('./.github/scripts/pr-comment.js')({github, context, fs: require('fs'), file})
// where `file` is the verdict `flowers check --markdown check.md` wrote (tox -e check): its CHANGED
// rows (what a variant is that differs from the baseline: preprocessing, layers, head, config, work
// done...) come first with the failing rows, and the command that accepts them last; a verdict too
// long for a comment keeps that command.
'use strict';

const MARKER = '<!-- flowers-check verdict -->';
const LIMIT = 60000; // GitHub refuses comments over 65,536 characters

function body(fs, file, runUrl) {
  let verdict;
  try {
    verdict = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    verdict = '### flowers check: no verdict\n\nThe smoke check ended before it could compare the runs ' +
      `(${err.code || err.message}); see the workflow run.`;
  }
  if (verdict.length > LIMIT) {
    const accept = verdict.split('\n').filter((line) => line.includes('--update-baseline') && !line.startsWith('|'));
    const tail = accept.map((line) => `\n\n${line}`).join('');
    verdict = verdict.slice(0, LIMIT) + '\n\n… (cut; the whole verdict is in the job summary)' + tail;
  }
  return `${MARKER}\n${verdict}\n\n<sub>[workflow run](${runUrl}) · this comment is updated on each push</sub>\n`;
}

module.exports = async ({github, context, fs, file}) => {
  const {owner, repo} = context.repo;
  const issue_number = context.issue.number;
  const runUrl = `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
  const text = body(fs, file, runUrl);
  const comments = await github.paginate(github.rest.issues.listComments, {owner, repo, issue_number, per_page: 100});
  const ours = comments.find((c) => c.user && c.user.type === 'Bot' && (c.body || '').startsWith(MARKER));
  if (ours) {
    await github.rest.issues.updateComment({owner, repo, comment_id: ours.id, body: text});
    return `updated comment ${ours.id}`;
  }
  const made = await github.rest.issues.createComment({owner, repo, issue_number, body: text});
  return `created comment ${made.data.id}`;
};
