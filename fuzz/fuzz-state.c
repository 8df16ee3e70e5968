/* fuzz-state.c - mz_daemon_state_parse on arbitrary text: no crash, no leak, a state that parsed is within
 * its bounds, and writing it out (mz_daemon_state_format) and reading that back gives the same state */
#include "daemon_state.h"
#include "fuzz.h"

#include <errno.h>

#define NAME "state"

static void check_bounds(const struct mz_daemon_state *st)
{
	FUZZ_CHECK(st->version == MZ_DS_VERSION, "version %d", st->version);
	FUZZ_CHECK(st->nmoves <= MZ_DS_MOVES, "%zu moves", st->nmoves);
	FUZZ_CHECK(st->nnodes <= st->nodes_cap && st->nbackoffs <= st->backoffs_cap && st->npinned <= st->pinned_cap,
		   "counts beyond capacity");
	for (size_t i = 0; i < st->nnodes; i++) {
		const struct mz_ds_node *n = &st->nodes[i];

		FUZZ_CHECK(n->node >= 0 && (i == 0 || n->node > st->nodes[i - 1].node), "node %zu: id %d not ascending",
			   i, n->node);
		FUZZ_CHECK((unsigned)n->verdict < MZ_VERDICT__COUNT, "node %d: verdict %d", n->node, (int)n->verdict);
		FUZZ_CHECK(fuzz_terminated(n->reason, sizeof(n->reason)), "node %d: reason not NUL-terminated", n->node);
		FUZZ_CHECK(!strpbrk(n->reason, "\n\r\t"), "node %d: reason with a line break or tab", n->node);
	}
	for (size_t i = 0; i < st->nbackoffs; i++)
		FUZZ_CHECK(st->backoffs[i].block <= UINT32_MAX && st->backoffs[i].until >= 0, "backoff %zu out of range",
			   i);
	for (size_t i = 0; i < st->npinned; i++) {
		const struct mz_ds_pinned *p = &st->pinned[i];

		FUZZ_CHECK(p->block <= UINT32_MAX && p->since >= 0, "pinned %zu out of range", i);
		FUZZ_CHECK(fuzz_terminated(p->refused, sizeof(p->refused)), "pinned %zu: refused not NUL-terminated", i);
		FUZZ_CHECK(!strpbrk(p->refused, " \t\n\r\v\f") && strcmp(p->refused, "-") != 0,
			   "pinned %zu: refused '%s' would not read back as one token", i, p->refused);
	}
	for (size_t i = 0; i < st->nmoves; i++) {
		const struct mz_ds_move *m = &st->moves[i];

		FUZZ_CHECK((unsigned)m->dir < MZ_MOVE_DIR__COUNT && (unsigned)m->result < MZ_MOVE_RESULT__COUNT,
			   "move %zu: dir %d result %d", i, (int)m->dir, (int)m->result);
		FUZZ_CHECK(fuzz_terminated(m->error, sizeof(m->error)), "move %zu: error not NUL-terminated", i);
		FUZZ_CHECK(!strpbrk(m->error, " \t\n\r\v\f") && strcmp(m->error, "-") != 0,
			   "move %zu: error '%s' would not read back as one token", i, m->error);
	}
}

/* Every field `memzone status` shows; "" when equal, else what differs. */
static const char *diff(const struct mz_daemon_state *a, const struct mz_daemon_state *b)
{
	if (a->pid != b->pid || a->updated != b->updated || a->observe_only != b->observe_only)
		return "pid, updated or observe_only";
	if (a->moves_to_kernel != b->moves_to_kernel || a->moves_to_movable != b->moves_to_movable ||
	    a->failures != b->failures || a->rollbacks != b->rollbacks)
		return "a counter";
	if (a->nnodes != b->nnodes || a->nbackoffs != b->nbackoffs || a->npinned != b->npinned || a->nmoves != b->nmoves)
		return "the number of nodes, backoffs, pinned blocks or moves";
	for (size_t i = 0; i < a->nnodes; i++)
		if (a->nodes[i].node != b->nodes[i].node || a->nodes[i].verdict != b->nodes[i].verdict ||
		    strcmp(a->nodes[i].reason, b->nodes[i].reason) != 0)
			return "a node line";
	for (size_t i = 0; i < a->nbackoffs; i++)
		if (a->backoffs[i].block != b->backoffs[i].block || a->backoffs[i].until != b->backoffs[i].until)
			return "a backoff";
	for (size_t i = 0; i < a->npinned; i++) {
		const struct mz_ds_pinned *x = &a->pinned[i], *y = &b->pinned[i];

		if (x->block != y->block || x->since != y->since || x->slab != y->slab || x->pgtable != y->pgtable ||
		    x->reserved != y->reserved || x->other != y->other || strcmp(x->refused, y->refused) != 0)
			return "a pinned block";
	}
	for (size_t i = 0; i < a->nmoves; i++) {
		const struct mz_ds_move *x = &a->moves[i], *y = &b->moves[i];

		if (x->when != y->when || x->block != y->block || x->dir != y->dir || x->result != y->result ||
		    x->duration_ms != y->duration_ms || strcmp(x->error, y->error) != 0)
			return "a move";
	}
	return "";
}

static void check_round_trip(const struct mz_daemon_state *st)
{
	struct mz_daemon_state again;
	char *err = fuzz_errbuf(), *text, *text2;
	size_t len;
	const char *d;
	int r;

	text = mz_daemon_state_format(st, &len);
	FUZZ_CHECK(text && strlen(text) == len, "format: length %zu, text %zu", len, text ? strlen(text) : 0);
	r = mz_daemon_state_parse(&again, "again", text, err, FUZZ_ERRLEN);
	FUZZ_CHECK(r == 0, "the formatted state does not parse (%d: %.*s):\n%s", r, FUZZ_ERRLEN, err, text);
	d = diff(st, &again);
	FUZZ_CHECK(!*d, "read back, %s differs:\n%s", d, text);
	text2 = mz_daemon_state_format(&again, NULL);
	FUZZ_CHECK(strcmp(text, text2) == 0, "the text changes when read back:\n--- first\n%s--- second\n%s", text,
		   text2);
	free(text2);
	free(text);
	mz_daemon_state_free(&again);
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *err = fuzz_errbuf();
	struct mz_daemon_state st;
	int r;

	fuzz_quiet();
	r = mz_daemon_state_parse(&st, NAME, text, err, FUZZ_ERRLEN);
	fuzz_check_result("mz_daemon_state_parse", r, err);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EPROTO, "mz_daemon_state_parse returned %d", r);
	if (r < 0) {
		FUZZ_CHECK(strncmp(err, NAME, strlen(NAME)) == 0, "error does not name the file: %s", err);
		/* header: "on error it is left empty" */
		FUZZ_CHECK(st.nnodes == 0 && st.nbackoffs == 0 && st.npinned == 0 && st.nmoves == 0 && !st.nodes &&
			   !st.backoffs && !st.pinned,
			   "a refused file left data behind");
	} else {
		check_bounds(&st);
		check_round_trip(&st);
	}
	mz_daemon_state_free(&st);
	free(err);
	free(text);
	return 0;
}
