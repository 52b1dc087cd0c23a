# cmake -DDIR=<dir> -P check_contract_headers.cmake
#   Fails if a public header under DIR (scaf/detail/ excepted) documents a
#   declaration as @private: what is not the contract is private (reached by
#   scaf's own code through a `detail::*_access` friend) or lives in
#   scaf/detail/.
file(GLOB_RECURSE headers "${DIR}/*.hpp")
set(found "")
foreach(header IN LISTS headers)
  if(header MATCHES "/detail/")
    continue()
  endif()
  file(STRINGS "${header}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "@private")
      string(APPEND found "${header}:${n}: ${line}\n")
    endif()
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "these public declarations are not the contract:\n"
                      "${found}")
endif()
list(LENGTH headers count)
message(STATUS "${count} headers of ${DIR} state the contract only")
