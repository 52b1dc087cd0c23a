# cmake -DDIR=<dir> -P check_public_api.cmake
#   Fails if a source under DIR reaches into scaf's internals: a scaf/detail/
#   header, the detail namespace, or a member documented as @private.
#   actors/ is built on scaf's public API only; this keeps it so.
file(GLOB_RECURSE sources "${DIR}/*.hpp" "${DIR}/*.cpp")
set(forbidden
  "scaf/detail/"
  "detail::"
  "\\.impl\\(\\)"
  "tree_path\\("
  "join_scope\\("
  "behavior_ready\\("
  "fail_with_exception\\(")
set(found "")
foreach(src IN LISTS sources)
  file(STRINGS "${src}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    foreach(pattern IN LISTS forbidden)
      if(line MATCHES "${pattern}")
        string(APPEND found "${src}:${n}: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "these lines use scaf's internals:\n${found}")
endif()
list(LENGTH sources count)
message(STATUS "${count} files of ${DIR} use scaf's public API only")
