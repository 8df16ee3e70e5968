# bash completion for memzone(8) and memzoned(8)                          -*- shell-script -*-
#
# Options are read from "memzone CMD --help" at completion time, so they never drift from the
# binary; block names come from /sys/devices/system/memory under --root when one is given.
# Plain bash: works without the bash-completion helpers (_init_completion) too.

# "memzone status --help" -> one "OPTION ARG" line per option ("--json", "--root DIR", "-v").
# Help lines look like "  -v, --verbose        text" or "  --root DIR           text": the option
# part ends at the first run of two spaces.
_memzone_help_opts()
{
	local line spec tok arg
	local -a toks
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]+(-[^[:space:]].*)$ ]] || continue
		spec=${BASH_REMATCH[1]%%  *}
		spec=${spec//,/ }
		read -r -a toks <<<"$spec"
		arg=
		for tok in "${toks[@]}"; do
			[[ $tok == -* ]] || arg=$tok
		done
		for tok in "${toks[@]}"; do
			[[ $tok == -* ]] && printf '%s %s\n' "${tok%%=*}" "$arg"
		done
	done < <("$@" --help 2>/dev/null)
}

# Subcommands: the first word of each line of the "Commands:" block of "memzone --help".
_memzone_commands()
{
	"$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/{/^  [a-z]/{s/^  \([a-z-]*\).*/\1/p}}'
}

# Block names memoryN under ROOT/sys/devices/system/memory (ROOT may be empty).
_memzone_blocks()
{
	local d
	for d in "$1"/sys/devices/system/memory/memory[0-9]*; do
		[[ -d $d ]] && printf '%s\n' "${d##*/}"
	done
}

# Complete the argument of option $1 whose help names it $2 (DIR, FILE, TARGET...).
_memzone_optarg()
{
	local cur=$3
	case $2 in
	DIR | ROOT) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	FILE | PATH) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	*)
		case $1 in
		--log) mapfile -t COMPREPLY < <(compgen -W 'auto stderr journal kmsg' -- "$cur") ;;
		*) COMPREPLY=() ;;
		esac ;;
	esac
	[[ $2 == DIR || $2 == FILE ]] && compopt -o filenames 2>/dev/null
	return 0
}

# Shared by memzone and memzoned: $1 = program, $2... = words before --help ("status").
_memzone_complete_words()
{
	local prog=$1 cur prev opt arg root="" i
	shift
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--root=/x" arrives as "--root" "=" "/x" because '=' is in COMP_WORDBREAKS.
	if [[ $cur == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--root=?*) root=${COMP_WORDS[i]#--root=} ;;
		--root)
			if [[ ${COMP_WORDS[i + 1]} == = ]]; then root=${COMP_WORDS[i + 2]}; else root=${COMP_WORDS[i + 1]}; fi ;;
		esac
	done
	root=${root/#\~/$HOME}

	local -A args=()
	while read -r opt arg; do
		args[$opt]=$arg
	done < <(_memzone_help_opts "$prog" "$@")

	if [[ $prev == -* && -n ${args[$prev]:-} ]]; then
		_memzone_optarg "$prev" "${args[$prev]}" "$cur"
		return 0
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${!args[*]}" -- "$cur")
		return 0
	fi
	case ${1:-} in
	online | plan)
		mapfile -t COMPREPLY < <(compgen -W "$(_memzone_blocks "$root")" -- "$cur") ;;
	*) COMPREPLY=() ;;
	esac
	return 0
}

_memzone()
{
	local i cmd="" word
	COMPREPLY=()
	# The subcommand is the first word that is neither an option nor an option's argument.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		--root | --config | --log) ((i++)); [[ ${COMP_WORDS[i]} == = ]] && ((i++)) ;;
		-*) ;;
		*) cmd=$word; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		local cur=${COMP_WORDS[COMP_CWORD]}
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W '--help --version' -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_memzone_commands "$1")" -- "$cur")
		fi
		return 0
	fi
	_memzone_complete_words "$1" "$cmd"
}

_memzoned()
{
	COMPREPLY=()
	_memzone_complete_words "$1"
}

complete -F _memzone memzone
complete -F _memzoned memzoned
