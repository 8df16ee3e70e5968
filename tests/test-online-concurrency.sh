#!/bin/bash
# test-online-concurrency.sh - one `memzone online` per new block, all started at once on one tree:
# a 64-block DIMM and a 32-block virtio-mem device arriving together, as udev would run them.
# The first helper of a device to get the lock onlines all of the device's blocks; every block must
# still be onlined exactly once, the DIMM must not end half movable, the ratio cap must
# hold in every intermediate state the kernel model logged, and everything must finish (no deadlock).
# shellcheck disable=SC2154 # top_srcdir comes from make check's environment
. "$top_srcdir/tests/test-online-lib.sh"
need flock
need timeout

# 24 boot blocks (~3G of kernel memory): 301% is room for ~70 movable blocks, fewer than the 96
# new ones, so the cap is reached while the helpers race.
tree race --blocks 120 --nodes 1 --hotplug dimm:64 --hotplug virtio_mem:32
D=$(dev first_block 0) DL=$(dev last_block 0)
V=$(dev first_block 1) VL=$(dev last_block 1)
# a generous lock_timeout: this test is about the lock doing its job, not about it timing out
printf '[online]\nratio = 301\nratio_basis = current\nlock_timeout = 60s\n' | conf # kmodel_check: managed kernel

# A start barrier: every helper waits for a shared lock the parent holds until all are forked.
exec 4>"$TMP/barrier"
flock -x 4
pids=()
for b in $(seq "$D" "$DL") $(seq "$V" "$VL"); do
	(
		exec 4>&-
		flock -s "$TMP/barrier" true
		# bounded: a deadlock shows up as timeout's exit status 124
		KMODEL_ROOT=$T LD_PRELOAD=$KMODEL exec timeout 300 "$MEMZONE" online "memory$b" --root "$T" \
			--config "$T/etc/memzone.conf" --allow-insecure-config --log stderr -q 2>"$TMP/err.$b"
	) &
	pids+=($!)
done
flock -u 4
exec 4>&-
failed=0
finished=0
for p in "${pids[@]}"; do
	if wait "$p"; then finished=$((finished + 1)); else failed=$((failed + 1)); fi
done

is "$finished/$failed" "96/0" "96 helpers started at once: all exit 0"
check "no helper warned (lock taken every time)" bash -c "! cat '$TMP'/err.* | grep -q ."
cat "$TMP"/err.* | head -5 | sed 's/^/#   /'

once=0 twice=0 offline=0
for b in $(seq "$D" "$DL") $(seq "$V" "$VL"); do
	n=$(kmodel_count '^online' "$b")
	[ "$n" -eq 1 ] && once=$((once + 1))
	[ "$n" -gt 1 ] && twice=$((twice + 1))
	[ "$(state "$b")" = online ] || offline=$((offline + 1))
done
is "$once" 96 "every block onlined exactly once"
is "$twice/$offline" 0/0 "none twice, none left offline"
is "$(grep -c ' offline ' "$T/proc/.kmodel.log")" 0 "nothing was offlined"
# the first helper of each device onlines the device's other blocks; their own helpers take the
# marker it leaves (before the lock, or after waiting for it)
is "$(ls -A "$T/run/memzone/onlined" 2>/dev/null)" "" "every block's own helper consumed its marker"
check "the ratio cap held in every intermediate state" kmodel_check 301
dimm=$(zone_of "$D" "$DL")
check "the DIMM is all in one zone ($dimm)" test "$dimm" = Movable -o "$dimm" = Normal
diag "DIMM: $dimm; virtio-mem: $(for b in $(seq "$V" "$VL"); do zones "$b"; done | sort | uniq -c | tr -s ' \n' ' ')"
diag "final: $(tail -n1 "$T/proc/.kmodel.log")"

# The same outcome as if they had run one after the other: the final state fits the cap too.
last=$(tail -n1 "$T/proc/.kmodel.log" | grep -o 'kernel=[0-9]* movable=[0-9]*')
final=$(awk '/^Node/ { z = $4 }
	$1 == "managed" { if (z == "Movable") m += $2; else if (z != "Device") k += $2 }
	END { print "kernel=" k " movable=" m }' "$T/proc/zoneinfo")
is "$final" "$last" "the final zoneinfo agrees with the model's last transition"

done_testing
