#!/usr/bin/env escript
%%! +P 4000000
%% Erlang/OTP peer benchmark for the scaf structured-concurrency library.
%% Usage: escript scaf_peer.erl WORKLOAD N
%%   w1 N : fan-out of N trivial processes (spawn_monitor, await all 'DOWN')
%%   w2 D : binary tree of depth D, every parent awaits its children's 'DOWN'
%%   w3 D : binary tree of depth D kept alive, then cancelled from the root
%%   restart N : an OTP supervisor restarts a crashing child N times
%% Prints exactly one line: "seconds <float> rss_kb <int>".
-module(scaf_peer).
-mode(compile).
-export([main/1, init/1, start_crasher/0]).

main([W, NStr]) ->
    case {W, parse_nat(NStr)} of
        {_, error} -> usage("N must be a non-negative integer");
        {"w1", N} -> report(w1(N));
        {"w2", D} -> report(w2(D));
        {"w3", D} -> report(w3(D));
        {"restart", N} -> report(restart(N));
        _ -> usage("unknown workload " ++ W)
    end;
main(_) ->
    usage("wrong number of arguments").

usage(Msg) ->
    io:format(standard_error,
              "scaf_peer: ~s~nusage: escript scaf_peer.erl (w1|w2|w3|restart) N~n",
              [Msg]),
    halt(2).

parse_nat(S) ->
    try list_to_integer(S) of
        N when N >= 0 -> N;
        _ -> error
    catch _:_ -> error
    end.

report(Nanos) ->
    Secs = Nanos / 1.0e9,
    io:format("seconds ~.6f rss_kb ~B~n", [Secs, vm_hwm_kb()]),
    halt(0).

now_ns() -> erlang:monotonic_time(nanosecond).

%% Peak RSS (VmHWM, kB) of this OS process (the BEAM VM).
vm_hwm_kb() ->
    {ok, F} = file:open("/proc/self/status", [read]),
    try find_hwm(F) after file:close(F) end.

find_hwm(F) ->
    case io:get_line(F, "") of
        eof -> erlang:error(no_vmhwm);
        "VmHWM:" ++ Rest ->
            [Num | _] = string:lexemes(Rest, " \t\n"),
            list_to_integer(Num);
        _ -> find_hwm(F)
    end.

%% ---------------------------------------------------------------- w1
%% One parent spawns N trivial children with spawn_monitor and waits for
%% all N 'DOWN' messages. The parent is a fresh process (not the escript
%% main process) so its mailbox/heap start clean.
w1(N) ->
    Driver = self(),
    {Pid, Ref} = spawn_monitor(fun() -> w1_parent(Driver, N) end),
    receive {w1_time, Pid, T} -> ok end,
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    T.

w1_parent(Driver, N) ->
    %% Standard OTP advice for a process that accumulates many messages:
    %% keep the mailbox off the process heap, otherwise every GC of the
    %% parent copies the queued 'DOWN' messages (quadratic: 100k fan-out
    %% measured ~1.6-3.8 s on_heap vs ~0.45 s off_heap on the test box).
    process_flag(message_queue_data, off_heap),
    T0 = now_ns(),
    w1_spawn(N),
    w1_await(N),
    T1 = now_ns(),
    Driver ! {w1_time, self(), T1 - T0}.

w1_spawn(0) -> ok;
w1_spawn(K) ->
    spawn_monitor(fun() -> ok end),
    w1_spawn(K - 1).

w1_await(0) -> ok;
w1_await(K) ->
    receive {'DOWN', _Ref, process, _Pid, _Reason} -> w1_await(K - 1) end.

%% ---------------------------------------------------------------- w2
%% Binary tree of depth D; each inner node spawn_monitors two children and
%% exits only after both children's 'DOWN' arrived; leaves exit at once.
w2(D) ->
    T0 = now_ns(),
    {Pid, Ref} = spawn_monitor(fun() -> w2_node(D) end),
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    now_ns() - T0.

w2_node(0) -> ok;
w2_node(D) ->
    {P1, R1} = spawn_monitor(fun() -> w2_node(D - 1) end),
    {P2, R2} = spawn_monitor(fun() -> w2_node(D - 1) end),
    receive {'DOWN', R1, process, P1, _} -> ok end,
    receive {'DOWN', R2, process, P2, _} -> ok end,
    ok.

%% ---------------------------------------------------------------- w3
%% Same tree, but every node stays alive until cancelled. A node reports
%% {up, self()} to its parent once both children are up. On 'cancel' a
%% node forwards cancel to its children, awaits both 'DOWN's, then exits.
%% Measured: from sending cancel to the root until the root's 'DOWN'.
w3(D) ->
    Driver = self(),
    {Pid, Ref} = spawn_monitor(fun() -> w3_node(Driver, D) end),
    receive {up, Pid} -> ok end,
    T0 = now_ns(),
    Pid ! cancel,
    receive {'DOWN', Ref, process, Pid, normal} -> ok end,
    now_ns() - T0.

w3_node(Parent, 0) ->
    Parent ! {up, self()},
    receive cancel -> ok end;
w3_node(Parent, D) ->
    Self = self(),
    {P1, R1} = spawn_monitor(fun() -> w3_node(Self, D - 1) end),
    {P2, R2} = spawn_monitor(fun() -> w3_node(Self, D - 1) end),
    receive {up, P1} -> ok end,
    receive {up, P2} -> ok end,
    Parent ! {up, Self},
    receive cancel -> ok end,
    P1 ! cancel,
    P2 ! cancel,
    receive {'DOWN', R1, process, P1, _} -> ok end,
    receive {'DOWN', R2, process, P2, _} -> ok end,
    ok.

%% ---------------------------------------------------------------- restart
%% An OTP supervisor (one_for_one, intensity N, period 1 h) with one
%% permanent child that crashes as soon as it has started. Measured: from
%% starting the supervisor until it gives up, after N restarts.
restart(N) ->
    logger:set_primary_config(level, none), % no crash report per restart
    process_flag(trap_exit, true),
    T0 = now_ns(),
    {ok, Sup} = supervisor:start_link(?MODULE, {sup, N}),
    receive {'EXIT', Sup, _} -> ok end,
    now_ns() - T0.

init({sup, N}) ->
    {ok, {#{strategy => one_for_one, intensity => N, period => 3600},
          [#{id => crasher, start => {?MODULE, start_crasher, []},
             restart => permanent, shutdown => brutal_kill}]}}.

start_crasher() ->
    {ok, spawn_link(fun() -> exit(crash) end)}.
