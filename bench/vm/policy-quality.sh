#!/bin/bash
# policy-quality.sh OUT.jsonl SAMPLES_DIR - both halves of the trade-off, per onlining policy (issue 8,
# item 4): does a kernel-memory ramp run into the OOM killer, and how much of the hot-added memory can
# be unplugged afterwards? And (issue 16, items 2 and 5) what became of the blocks memzoned harvested.
#
# Each configuration in a fresh VM (kernel 6.1, boot memory 1 GiB, same initramfs):
#   a  kernel auto-online, online_policy=auto-movable, auto_movable_ratio=301 (memzone's rule set aside)
#   b  kernel auto-online, everything online_movable
#   c  kernel auto-online, everything online_kernel
#   d  memzone's udev rule, built-in default policy, no memzoned (the boot's `memzone init` hands the
#      default policy to the kernel: kernel mode)
#   e  memzone's udev rule + memzoned, built-in defaults (release_delay 60s)
#   e301, e500  (not run by default) the same with ratio = 301 or 500: how much a higher cap (the same
#         with or without memzoned) changes the result
#   e-rd0, e-rd10  (layout mixed) e with [rebalance] release_delay = 0s or 10s: does giving back
#         sooner leave fewer harvested blocks pinned by kernel allocations (issue 16, item 2)?
# Timeline (the same for all): hot-add the layout's devices and wait for their blocks; sample
# every 500 ms (mzprobe sample -> SAMPLES_DIR/<config>-<run>.tsv); ramp unmovable kernel memory with
# `loadgen pt` (page tables: BENCH_RAMP_TARGET, default 1536M, at BENCH_RAMP_RATE MiB/s, default 16;
# the boot memory has ~0.9 GiB), hold it BENCH_HOLD seconds (30), release it (loadgen exits); then
# watch: BENCH_SETTLE seconds (20) without memzoned; with memzoned until no move for 90 s, every
# hot-added block Movable, or BENCH_RELEASE_MAX seconds (420) (layout mixed: see there). Every 5 s the
# watch samples the harvested blocks' zones (the give-back timeline). Then, memzoned stopped, each
# hot-added block: device, zone (sysfs), harvested or not (memzoned's "memoryN moved from Movable"
# log lines: the only thing taken from memzoned), and for those in a kernel zone their pages
# (/proc/kpageflags: mzprobe pageflags) and whether the kernel offlines it when asked (it is onlined
# to the kernel zone again at once). Harvested blocks are then: given back (Movable at the end),
# refused (in a kernel zone, with slab, page-table or reserved pages on it) or kept while returnable
# (in a kernel zone with none: a policy fault). Finally every hot-added device is unplugged: QMP
# device_del of each DIMM (60 s for DEVICE_DELETED), virtio-mem's requested-size set to 0 (60 s for
# the plugged size to reach it; the size it shrank to is recorded). Recorded also: OOM kills (vmstat
# oom_kill), "page allocation failure" lines, whether loadgen reached its target, peak kernel-zone
# pressure (lowest kernel free - high watermark, highest PSI some avg10, kernel direct-reclaim
# stalls), blocks in Movable after the release, moves.
#
# Memory layouts (BENCH_POLICY_LAYOUTS, default "std normal512"), the same 1 GiB of boot memory:
#   std        QEMU's default: all of it below 4 GiB, so the guest's boot memory is DMA/DMA32 only and
#              the first hot-added blocks onlined to a kernel zone are its only ZONE_NORMAL; one 4 GiB
#              DIMM (BENCH_POLICY_HOTADD) is hot-added (the issue's comparison: every configuration of
#              BENCH_POLICY_CONFIGS runs in it)
#   normal512  -machine pc,max-ram-below-4g=512M: 512 MiB below 4 GiB, 512 MiB above it, a boot
#              ZONE_NORMAL of ~0.5 GiB as on real servers (where most RAM is above 4 GiB); the DIMM lands
#              above it (device memory starts at the next GiB after RAM). Runs the configurations of
#              BENCH_POLICY_CONFIGS_NORMAL512 (default "a b c d e"). The boot memory holds as much as
#              in std, so the ramp is the same.
#   mixed      (not run by default: BENCH_POLICY_LAYOUTS=mixed) DIMMs and virtio-mem together, as in
#              issue 16's second experiment: virtio-mem grown to 2 GiB (16 blocks), then two 1 GiB DIMMs
#              d1 and d2 (8 blocks each); with the 301% cap the first DIMM goes to ZONE_NORMAL, the
#              second to Movable. Ramp: page tables up to what the kernel zones manage once the
#              devices are online (boot + d1) + BENCH_MIXED_OVER MiB (512: 4 blocks' worth, so memzoned
#              has to harvest some 4-8 blocks) at BENCH_MIXED_RATE MiB/s (32: ~80 s for ~2.4 GiB, a
#              pace memzoned's 1 move a second keeps up with; VM 53 uses +256 MiB at 64 MiB/s). With
#              memzoned the watch lasts BENCH_GIVEBACK_WATCH seconds (600: item 2 asks for the give-backs
#              within 10 minutes of the release), shorter only once every harvested block is Movable and
#              nothing moved for 90 s. Runs BENCH_POLICY_CONFIGS_MIXED (default "a e e-rd0 e-rd10").
# Sample tables of layouts other than std are named <config>-<layout>-<kernel>-<run>.tsv.
# OUT.jsonl keeps the records of other layouts, kernels and configurations: those of the
# (layout, kernel, configuration) triples about to run are replaced.
#
# Environment: BENCH_POLICY_CONFIGS (default "a b c d e"), BENCH_POLICY_CONFIGS_NORMAL512 (default
# "a b c d e"), BENCH_POLICY_CONFIGS_MIXED, BENCH_POLICY_LAYOUTS, BENCH_POLICY_RUNS (default 1),
# BENCH_KERNELS (default "6.1"), plus the ramp settings above.
set -u -o pipefail
. "$(dirname "$0")/benchvm.sh"

export BENCH_OUT=${1:?usage: policy-quality.sh OUT.jsonl SAMPLES_DIR}
SAMPLES=${2:?usage: policy-quality.sh OUT.jsonl SAMPLES_DIR}
CONFIGS=${BENCH_POLICY_CONFIGS:-a b c d e}
CONFIGS_NORMAL512=${BENCH_POLICY_CONFIGS_NORMAL512:-a b c d e}
CONFIGS_MIXED=${BENCH_POLICY_CONFIGS_MIXED:-a e e-rd0 e-rd10}
LAYOUTS=${BENCH_POLICY_LAYOUTS:-std normal512}
RUNS=${BENCH_POLICY_RUNS:-1}
KERNELS=${BENCH_KERNELS:-6.1}
TARGET=${BENCH_RAMP_TARGET:-1536M}
RATE=${BENCH_RAMP_RATE:-16}
HOLD=${BENCH_HOLD:-30}
SETTLE=${BENCH_SETTLE:-20}
RELEASE_MAX=${BENCH_RELEASE_MAX:-420}
HOTADD=${BENCH_POLICY_HOTADD:-4G}
MIXED_OVER=${BENCH_MIXED_OVER:-512}
MIXED_RATE=${BENCH_MIXED_RATE:-32}
WATCH=${BENCH_GIVEBACK_WATCH:-600}
mkdir -p "$SAMPLES"
touch "$BENCH_OUT"
bench_vm_prepare || exit 1
WORK=$(mktemp -d /tmp/mzbench-pq.XXXXXX)
pq_exit() { local rc=$?; rm -rf "$WORK"; bench_vm_cleanup; exit $rc; }
trap pq_exit EXIT
failures=0

describe() {
    case $1 in
        a) echo "kernel auto-movable, ratio 301" ;;
        b) echo "kernel: everything online_movable" ;;
        c) echo "kernel: everything online_kernel" ;;
        d) echo "memzone helper only (defaults)" ;;
        e) echo "memzone helper + memzoned (defaults)" ;;
        e301|e500) echo "memzone helper + memzoned, ratio = ${1#e}" ;;
        e-rd*) echo "memzone helper + memzoned, release_delay = ${1#e-rd}s" ;;
        *) return 1 ;;
    esac
}
boot_config() {  # boot_config CONFIG LAYOUT: vm_boot with what the configuration and layout need
    local conf=$WORK/memzone.conf more=()
    [ "$2" = mixed ] && more=(--virtio-mem 2G)
    : > "$conf"
    case $1 in
        a) vm_boot --mem 1G "${more[@]}" --no-memzone --append "memhp_default_state=online memory_hotplug.online_policy=auto-movable memory_hotplug.auto_movable_ratio=301" ;;
        b) vm_boot --mem 1G "${more[@]}" --no-memzone --append memhp_default_state=online_movable ;;
        c) vm_boot --mem 1G "${more[@]}" --no-memzone --append memhp_default_state=online_kernel ;;
        d|e) vm_boot --mem 1G "${more[@]}" --conf "$conf" ;;
        e301|e500) printf '[online]\nratio = %s\n' "${1#e}" > "$conf"; vm_boot --mem 1G "${more[@]}" --conf "$conf" ;;
        e-rd*) printf '[rebalance]\nrelease_delay = %ss\n' "${1#e-rd}" > "$conf"; vm_boot --mem 1G "${more[@]}" --conf "$conf" ;;
    esac
}
layout_machine() {  # layout_machine LAYOUT: QEMU's -machine value
    case $1 in
        std|mixed) echo pc ;;
        normal512) echo pc,max-ram-below-4g=512M ;;
        *) return 1 ;;
    esac
}
layout_configs() { case $1 in std) echo "$CONFIGS" ;; normal512) echo "$CONFIGS_NORMAL512" ;; mixed) echo "$CONFIGS_MIXED" ;; esac; }
# the hot-added devices, in the order they are added: KIND:ID:SIZE (virtio-mem's id is vmlib's vm0)
layout_devices() { case $1 in mixed) echo "vmem:vm0:2G dimm:d1:1G dimm:d2:1G" ;; *) echo "dimm:pq:$HOTADD" ;; esac; }
daemon() { case $1 in e|e301|e500|e-rd*) return 0 ;; *) return 1 ;; esac; }
# release_delay in force (memzoned's built-in default is 60s); empty without memzoned
release_delay() { case $1 in e-rd*) echo "${1#e-rd}s" ;; *) if daemon "$1"; then echo 60s; fi ;; esac; }

# hotadd_devices LAYOUT: add the layout's devices one after the other, each until its blocks are
# online; the guest keeps each device's blocks (/tmp/pq-dev.ID). Prints the number of blocks.
hotadd_devices() {
    local d kind id size nb total=0 bs
    bs=$(gctl 'block_size') || return 1
    for d in $(layout_devices "$1"); do
        IFS=: read -r kind id size <<< "$d"
        nb=$(( $(to_bytes "$size") / bs ))
        gctl "snap $id" >/dev/null
        case $kind in
            dimm) dimm_add "$id" "$size" || { blog "policy:   device_add $id failed"; return 1; } ;;
            vmem) vmem_resize "$size" 60 || { blog "policy:   virtio-mem did not grow to $size"; return 1; } ;;
        esac
        gctl --timeout 150 "wait_new_online $id $nb 120000" >&2 || blog "policy:   not every block of $id came online"
        gctl "pq_add_dev $id" >/dev/null
        total=$((total + nb))
    done
    echo "$total"
}
# unplug_devices LAYOUT: every hot-added device, one line each into $WORK/devices.tsv:
# ID KIND SIZE_MIB UNPLUGGED SECONDS [PLUGGED_BEFORE_MIB PLUGGED_AFTER_MIB]
unplug_devices() {
    local d kind id size t ok before after
    : > "$WORK/devices.tsv"
    for d in $(layout_devices "$1"); do
        IFS=: read -r kind id size <<< "$d"
        t=$(date +%s.%N)
        case $kind in
            dimm) if dimm_del "$id" 60 2>/dev/null; then ok=true; else ok=false; fi
                  printf '%s\tdimm\t%s\t%s\t%s\n' "$id" $(( $(to_bytes "$size") >> 20 )) "$ok" "$(_since "$t")" >> "$WORK/devices.tsv" ;;
            vmem) # the driver unplugs what it can of a shrink request; what it cannot stays plugged
                  before=$(vmem_size) ok=false
                  QMP --timeout 10 '{"execute":"qom-set","arguments":{"path":"vm0","property":"requested-size","value":0}}' >/dev/null
                  while [ "$(vmem_size)" != 0 ]; do
                      [ "$(_since "$t" | cut -d. -f1)" -ge 60 ] && break
                      sleep 0.5
                  done
                  [ "$(vmem_size)" = 0 ] && ok=true
                  after=$(vmem_size)
                  printf '%s\tvmem\t%s\t%s\t%s\t%s\t%s\n' "$id" $(( $(to_bytes "$size") >> 20 )) "$ok" "$(_since "$t")" \
                      $(( ${before:-0} >> 20 )) $(( ${after:-0} >> 20 )) >> "$WORK/devices.tsv" ;;
        esac
    done
}

# the records of what is about to run are replaced; the rest of OUT stays (other layouts' results)
cfgmap=$(for l in $LAYOUTS; do printf '%s=%s;' "$l" "$(layout_configs "$l")"; done)
python3 - "$BENCH_OUT" "$LAYOUTS" "$KERNELS" "$cfgmap" <<'EOF' || exit 1
import json, os, sys
out, layouts, kernels, cfgs = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), {}
for part in sys.argv[4].split(";"):
    if part:
        lay, _, cs = part.partition("=")
        cfgs[lay] = cs.split()
keep = []
for line in open(out):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    lay = r.get("layout", "std")
    if not (r.get("bench") == "policy" and lay in layouts and r.get("kernel") in kernels
            and r.get("config") in cfgs.get(lay, [])):
        keep.append(line.rstrip("\n") + "\n")
with open(out + ".tmp", "w") as f:
    f.write("".join(keep))
os.replace(out + ".tmp", out)
EOF

for layout in $LAYOUTS; do
  BENCH_QEMU_MACHINE=$(layout_machine "$layout") || { blog "policy: unknown layout $layout"; exit 2; }
  export BENCH_QEMU_MACHINE
  # vmlib kills a VM after VM_WATCHDOG seconds: boot + hot-add + ramp + hold + watch + unplugs
  if [ "$layout" = mixed ]; then
      VM_WATCHDOG=${BENCH_VM_WATCHDOG:-$(( 3072 / MIXED_RATE + HOLD + WATCH + 600 ))}
  else
      VM_WATCHDOG=${BENCH_VM_WATCHDOG:-$(( $(to_bytes "$TARGET") / 1048576 / RATE + HOLD + RELEASE_MAX + 400 ))}
  fi
  export VM_WATCHDOG
for VM_MODE in $KERNELS; do
  for ((run = 1; run <= RUNS; run++)); do
    for cfg in $(layout_configs "$layout"); do
        desc=$(describe "$cfg") || { blog "policy: unknown configuration $cfg"; exit 2; }
        tag=$cfg-$VM_MODE-$run
        [ "$layout" = std ] || tag=$cfg-$layout-$VM_MODE-$run
        if ! boot_config "$cfg" "$layout" >&2; then
            bench_record bench=policy config="$cfg" layout="$layout" kernel="$VM_MODE" run:="$run" error="boot failed"
            failures=$((failures + 1)); continue
        fi
        blog "policy: [$VM_MODE $VM_KERNEL_REL] ($cfg) $desc, layout $layout (-machine $BENCH_QEMU_MACHINE): up in ${VM_BOOT_SECS}s"
        gctl 'bench_quiet; snap pq; echo "auto_online_blocks=$(cat $M/auto_online_blocks) online_policy=$(cat /sys/module/memory_hotplug/parameters/online_policy 2>/dev/null)"; cat /proc/cmdline' >&2
        # managed memory of each zone at boot: which zones the boot memory gives the kernel
        boot_zones=$(gctl 'for z in DMA DMA32 Normal Movable; do printf "%s=%dM " $z $(( $(zone_field $z managed) / 256 )); done; echo')
        blog "policy:   boot zones (managed): $boot_zones"
        if [ "$layout" = normal512 ] && [ "$(gctl 'zone_field Normal managed')" = 0 ]; then
            bench_record bench=policy config="$cfg" layout="$layout" kernel="$VM_MODE" run:="$run" error="no boot ZONE_NORMAL: $boot_zones"
            failures=$((failures + 1)); vm_shutdown; continue
        fi
        daemon "$cfg" && gctl 'start_memzoned --log stderr; sleep 2' >/dev/null
        t_add=$(date +%s.%N)
        if ! nb=$(hotadd_devices "$layout"); then
            bench_record bench=policy config="$cfg" layout="$layout" kernel="$VM_MODE" run:="$run" error="device_add failed"
            failures=$((failures + 1)); vm_shutdown; continue
        fi
        online_s=$(_since "$t_add")
        zones_added=$(gctl 'hot_zones')
        dev_zones_added=$(gctl 'for f in /tmp/pq-dev.*; do d=${f#/tmp/pq-dev.}; printf "%s: %s; " $d "$(pq_dev_zones $d | sed "s/ $//")"; done; echo')
        hot_first=$(gctl 'hot_blocks | sort -n | head -n 1')
        blog "policy:   $nb blocks online after ${online_s}s: $zones_added (per device: $dev_zones_added first hot-added block: memory$hot_first)"
        target=$TARGET rate=$RATE ramp_rule=''
        if [ "$layout" = mixed ]; then
            # what the kernel zones manage now (boot memory + hot-added blocks in a kernel zone) + MIXED_OVER
            target=$(gctl "echo \$(( \$(kernel_pages) / 256 + $MIXED_OVER ))M" | tr -d '\r\n ') rate=$MIXED_RATE
            ramp_rule="what the kernel zones manage once the devices are online + $MIXED_OVER MiB"
            blog "policy:   ramp target $target (kernel zones' managed memory + $MIXED_OVER MiB) at $rate MiB/s"
        fi
        gctl "sleep 3
mzprobe sample --interval-ms 500 --until /tmp/stop-sampler > /tmp/pq.tsv 2>&1 < /dev/null &
echo -1000 > /proc/\$!/oom_score_adj
sleep 3
loadgen pt --target $target --rate $rate --hold $HOLD > /tmp/pq-lg.log 2>&1 < /dev/null &
echo \$! > /tmp/pq-lg.pid" >/dev/null
        # ramp + hold: until loadgen is gone (done, or killed by the OOM killer)
        limit=$(( $(to_bytes "$target") / 1048576 / rate + HOLD + 120 ))
        gctl --timeout $((limit + 30)) "t=\$(ns); while kill -0 \$(cat /tmp/pq-lg.pid) 2>/dev/null; do
    [ \"\$(ms_since \$t)\" -gt $((limit * 1000)) ] && { kill \$(cat /tmp/pq-lg.pid); echo overtime; break; }
    sleep 1; done" >&2
        t_rel=$(date +%s.%N)
        # after the release. With memzoned: the give-back timeline every 5 s (ms since the release,
        # harvested so far, of them Movable, hot-added Movable / kernel) until the layout's stop rule
        : > "$WORK/gb.tsv"
        if daemon "$cfg"; then
            if [ "$layout" = mixed ]; then wmax=$WATCH quiet=0; else wmax=$RELEASE_MAX quiet=90; fi
            gctl --timeout $((wmax + 60)) "t=\$(ns); last=\$(tail -n 1 /tmp/pq.tsv | cut -f20); lt=\$t
: > /tmp/pq-gb.tsv
while :; do
    el=\$(ms_since \$t); pq_gb_sample \$el >> /tmp/pq-gb.tsv
    [ \"\$el\" -ge $((wmax * 1000)) ] && { echo 'watch: time is up'; break; }
    sleep 5; r=\$(tail -n 1 /tmp/pq.tsv)
    m=\$(echo \"\$r\" | cut -f20); [ \"\$m\" != \"\$last\" ] && { last=\$m; lt=\$(ns); }
    [ \"\$(echo \"\$r\" | cut -f18)\" = 0 ] && [ \"\$(echo \"\$r\" | cut -f19)\" = 0 ] && { echo 'watch: all hot-added blocks Movable'; break; }
    [ $quiet -gt 0 ] && [ \"\$(ms_since \$lt)\" -gt $((quiet * 1000)) ] && { echo 'watch: no move for $quiet s'; break; }
    g=\$(tail -n 1 /tmp/pq-gb.tsv | cut -f2,3 | tr '\t' ' ')
    [ \"\${g% *}\" -gt 0 ] && [ \"\${g% *}\" = \"\${g#* }\" ] && [ \"\$(ms_since \$lt)\" -gt 90000 ] &&
        { echo 'watch: every harvested block Movable, no move for 90 s'; break; }
done
pq_gb_sample \$(ms_since \$t) >> /tmp/pq-gb.tsv" >&2
            gctl 'cat /tmp/pq-gb.tsv' > "$WORK/gb.tsv"
        else
            sleep "$SETTLE"
        fi
        release_s=$(_since "$t_rel")
        if ! kill -0 "$VM_QEMU_PID" 2>/dev/null; then
            blog "policy:   the VM died during the run: $(tail -n 2 "$VM_DIR/qemu.out" 2>/dev/null | tr '\n' ' ')"
            bench_record bench=policy config="$cfg" layout="$layout" desc="$desc" kernel="$VM_MODE" run:="$run" error="the VM died during the run"
            failures=$((failures + 1)); vm_shutdown; continue
        fi
        gctl 'touch /tmp/stop-sampler; sleep 1' >/dev/null
        gctl 'cat /tmp/pq.tsv' > "$SAMPLES/$tag.tsv"
        lg=$(gctl 'cat /tmp/pq-lg.log | tail -n 4')
        allocfail=$(gctl 'dmesg | grep -c "page allocation failure"')
        oomlines=$(gctl 'dmesg | grep -E "Out of memory|oom-kill|Killed process" | tail -n 4')
        # the sampler's count ends with the sampler (the OOM killer once took it despite its
        # oom_score_adj being ordinary): the count at the end comes from vmstat too
        oom_end=$(gctl "awk '/^oom_kill /{print \$2}' /proc/vmstat" | tr -d '\r\n ')
        zones_end=$(gctl 'hot_zones')
        dlog=''
        mzstatus=''
        if daemon "$cfg"; then
            # memzoned's own view before it stops (its pinned list), kept next to the guest's, and its whole log
            mzstatus=$(gctl '"$MZ_BIN" status 2>&1 | grep -E "^ *(pinned|backoff):"')
            dlog=$(gctl 'stop_memzoned; sleep 0.5; grep -c " moved from " /tmp/memzoned.log; tail -n 12 /tmp/memzoned.log')
            gctl 'cat /tmp/memzoned.log' > "$SAMPLES/$tag.memzoned.log"
        fi
        # every hot-added block: device, zone, harvested, its pages if in a kernel zone, the kernel's
        # verdict on an offline (memzoned stopped: nothing moves meanwhile)
        gctl --timeout 300 'pq_block_table' > "$WORK/blocks.tsv"
        pages=$(awk -F'\t' '$5 != "-" { printf "memory%s (%s%s, offline: %s): %s\n", $1, $2, $4 == 1 ? ", harvested" : "", $6, $5 }' "$WORK/blocks.tsv")
        t_del=$(date +%s.%N)
        unplug_devices "$layout"
        del_s=$(_since "$t_del")
        unplug=$(awk -F'\t' '$4 != "true" { bad = 1 } END { print bad ? "false" : "true" }' "$WORK/devices.tsv")
        left=$(gctl 'hot_zones')
        blog "policy:   after release: $zones_end; unplugs: $(awk -F'\t' '{ printf "%s=%s ", $1, $4 }' "$WORK/devices.tsv")(${del_s}s); loadgen: $(echo "$lg" | tail -n 1)"
        summary=$(python3 "$BENCH_VM_HERE/policy-summary.py" "$SAMPLES/$tag.tsv" --oom-end "${oom_end:-0}" --blocks "$WORK/blocks.tsv" \
            --devices "$WORK/devices.tsv" --giveback "$WORK/gb.tsv")
        blog "policy:   $(printf '%s' "$summary" | python3 -c 'import json, sys; s = json.load(sys.stdin); print("harvest:", json.dumps(s.get("harvest")), "given back at:", json.dumps(s.get("giveback_at")))')"
        bench_record bench=policy config="$cfg" layout="$layout" machine="$BENCH_QEMU_MACHINE" boot_zones="$boot_zones" \
            hot_first_block:="${hot_first:-null}" desc="$desc" kernel="$VM_MODE" kernel_release="$VM_KERNEL_REL" \
            accel="$(bench_accel)" run:="$run" hotadd="$(layout_devices "$layout")" blocks:="$nb" \
            ramp="$target at $rate MiB/s, hold ${HOLD}s" ramp_rule="$ramp_rule" release_delay="$(release_delay "$cfg")" \
            online_s:="$online_s" release_s:="$release_s" zones_added="$zones_added" dev_zones_added="$dev_zones_added" \
            zones_end="$zones_end" unplugged:="$unplug" unplug_s:="$del_s" zones_after_unplug="$left" loadgen="$lg" \
            alloc_failures:="${allocfail:-0}" oom_log="$oomlines" memzoned_log="$dlog" memzoned_status="$mzstatus" \
            kernel_block_pages="$pages" \
            samples="$tag.tsv" summary:="$summary"
        vm_shutdown
    done
  done
done
done
blog "policy: done, $failures failure(s)"
[ "$failures" -eq 0 ]
