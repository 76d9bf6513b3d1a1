# The layer table: every Kithara layer, its rank, and the lower layers it may link.
#
# A layer calls only down. kithara_add_library() checks each declared DEPS entry against this
# table, and kithara_check_layering() re-checks every kithara_* target's real link list at the end
# of configuration, so a raw target_link_libraries() that bypasses the helper fails as well.
# Peers (same rank: core, bufpool; net, assets, worker; file, hls) never depend on each other.

include_guard(GLOBAL)

set(KITHARA_LAYERS core bufpool storage net assets worker stream decode file hls kithara)

set(_kithara_rank_core 0)
set(_kithara_rank_bufpool 0)
set(_kithara_rank_storage 1)
set(_kithara_rank_net 2)
set(_kithara_rank_assets 2)
set(_kithara_rank_worker 2)
set(_kithara_rank_stream 3)
set(_kithara_rank_decode 4)
set(_kithara_rank_file 5)
set(_kithara_rank_hls 5)
set(_kithara_rank_kithara 6)

# Allowed direct dependencies: exactly what each layer's code uses today (its DEPS), plus what a
# planned layer will use. Nothing is allowed "in case": widen an entry when the code needs it.
set(_kithara_allowed_core "")                    # result, error, conditions, deadline, log, url
set(_kithara_allowed_bufpool "")                 # uses nothing of core: a peer at rank 0
set(_kithara_allowed_storage core bufpool)       # memory_resource chunks, atomic_resource::read
set(_kithara_allowed_net core)                   # result, url redaction, log; sinks own buffers
set(_kithara_allowed_assets core bufpool storage)  # resources of assets; atomic_handle::read
set(_kithara_allowed_worker core bufpool)        # channels account pooled buffers by bytes
set(_kithara_allowed_stream core bufpool storage)  # sources over resources; pooled read-ahead
set(_kithara_allowed_decode core bufpool worker stream)  # reads a stream, pooled PCM, sessions
set(_kithara_allowed_file core storage net assets worker stream)  # net into assets' resources
# hls (planned): net for playlists/segments, assets+storage for the cache, worker for its io and
# download jobs, stream for the source it offers, bufpool for segment and key buffers, decode for
# variant switches across codecs and rates (drop it if hls ends up not calling decode).
set(_kithara_allowed_hls core bufpool storage net assets worker stream decode)
# The umbrella: the io runtime and background pool (worker), the client (net), the cache
# (assets), file + decode for progressive URLs, hls for playlists.
set(_kithara_allowed_kithara core net assets worker decode file hls)

# kithara_layer_rank(<layer> <out-var>): the rank, or fails on an unknown layer.
function(kithara_layer_rank layer out)
  if(NOT layer IN_LIST KITHARA_LAYERS)
    message(FATAL_ERROR "Kithara layering: '${layer}' is not a Kithara layer "
                        "(known layers: ${KITHARA_LAYERS}).")
  endif()
  set(${out} ${_kithara_rank_${layer}} PARENT_SCOPE)
endfunction()

# kithara_check_dependency(<layer> <dep> <how>): fails configuration unless <layer> may link <dep>.
function(kithara_check_dependency layer dep how)
  kithara_layer_rank(${layer} _rank)
  kithara_layer_rank(${dep} _dep_rank)
  if(_dep_rank GREATER_EQUAL _rank)
    if(_dep_rank EQUAL _rank)
      set(_why "a peer of the same rank ${_rank}")
    else()
      set(_why "a higher layer (rank ${_dep_rank} > ${_rank})")
    endif()
    message(FATAL_ERROR "Kithara layering: kithara::${layer} ${how} kithara::${dep}, ${_why}. "
                        "A layer may only call down.")
  endif()
  if(NOT dep IN_LIST _kithara_allowed_${layer})
    message(FATAL_ERROR "Kithara layering: kithara::${layer} ${how} kithara::${dep}, which is not "
                        "among its allowed dependencies (${_kithara_allowed_${layer}}); "
                        "update cmake/KitharaLayers.cmake if the design really changed.")
  endif()
endfunction()
