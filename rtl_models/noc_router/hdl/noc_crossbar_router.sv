// One input-queued crossbar router with N terminal ports, one virtual channel per port,
// round-robin VC allocation and credit flow control: the RTL twin of hwsim's
// noc kernel on `crossbar(N)` with RouterSpec(num_vcs=1, routing_delay=1, vc_alloc_delay=1,
// sw_alloc_delay=1, crossbar_delay=1).
//
// Cycle conventions (cycle c = between rising edges c and c+1):
//   in_valid/in_flit and credit_in driven in cycle c take effect in cycle c+1 (the model's
//   "received in cycle c+1");
//   a head that is at the front of an idle input in cycle a is routed in a, requests an output
//   VC in a+1 and switch allocation from a+2; a flit winning switch allocation in cycle w
//   appears on out_valid/out_flit in cycle w+1, and credit_out pulses for its input in w+1.
//   An output VC is released by a credit with credit_in_tail set (wait for the tail credit).
// Flit: {packet id [PW], destination port [DW], tail, head}.
module noc_crossbar_router #(
    parameter int N = 4,
    parameter int DEPTH = 4,         // flits per input buffer
    parameter int DW = 2,            // destination field width, 2**DW >= N
    parameter int PW = 8             // packet id width
) (
    input  logic              clk,
    input  logic              rst_n,
    input  logic [N-1:0]      in_valid,
    input  logic [N*FW-1:0]   in_flit,
    output logic [N-1:0]      credit_out,      // input p freed a buffer slot
    input  logic [N-1:0]      credit_in,       // the terminal on output o freed a slot
    input  logic [N-1:0]      credit_in_tail,  // ... the tail's: output o's VC is free again
    output logic [N-1:0]      out_valid,
    output logic [N*FW-1:0]   out_flit
);
    localparam int FW = PW + DW + 2;
    localparam int CW = $clog2(DEPTH + 1);
    localparam int PTRW = DEPTH > 1 ? $clog2(DEPTH) : 1;
    localparam int IW = N > 1 ? $clog2(N) : 1;
    typedef enum logic [1:0] {IDLE, WAIT_VA, ACTIVE} state_t;

    logic [FW-1:0]   buffer [N][DEPTH];
    logic [PTRW-1:0] head_ptr [N];
    logic [CW-1:0]   count [N];
    state_t          state [N];
    logic [DW-1:0]   route [N];
    logic [N-1:0]    owned;             // output VC held by a packet
    logic [IW-1:0]   owner [N];         // ... of this input
    logic [CW-1:0]   credits [N];       // free slots at the terminal behind output o
    logic [IW-1:0]   rr_va [N];

    logic [FW-1:0]   front [N];
    logic [N-1:0]    va_grant_valid, sw_grant_valid, popped;
    logic [IW-1:0]   va_grant [N];

    always_comb begin
        for (int p = 0; p < N; p++) front[p] = buffer[p][head_ptr[p]];
        popped = '0;
        for (int o = 0; o < N; o++) begin
            // VC allocation: the first waiting head for o in round-robin order from rr_va[o]
            va_grant_valid[o] = 1'b0;
            va_grant[o] = '0;
            for (int i = 0; i < N; i++) begin
                automatic int p = (int'(rr_va[o]) + i) % N;
                if (!owned[o] && !va_grant_valid[o] && state[p] == WAIT_VA && int'(route[p]) == o) begin
                    va_grant_valid[o] = 1'b1;
                    va_grant[o] = IW'(p);
                end
            end
            // switch allocation: with one VC per port only the owner of o's VC can use o, so
            // the switch allocator reduces to: the owner has a flit and o has a credit
            sw_grant_valid[o] = owned[o] && state[owner[o]] == ACTIVE && count[owner[o]] != 0 && credits[o] != 0;
            if (sw_grant_valid[o]) popped[owner[o]] = 1'b1;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            for (int p = 0; p < N; p++) begin
                head_ptr[p] <= '0;
                count[p] <= '0;
                state[p] <= IDLE;
                route[p] <= '0;
                credits[p] <= CW'(DEPTH);
                rr_va[p] <= '0;
                owner[p] <= '0;
            end
            owned <= '0;
            out_valid <= '0;
            credit_out <= '0;
        end else begin
            out_valid <= '0;
            credit_out <= '0;
            for (int p = 0; p < N; p++) begin
                // route computation: an idle input with a head at its front
                if (state[p] == IDLE && count[p] != 0 && front[p][0]) begin
                    state[p] <= WAIT_VA;
                    route[p] <= front[p][DW+1:2];
                end
                if (in_valid[p])
                    buffer[p][PTRW'((int'(head_ptr[p]) + int'(count[p])) % DEPTH)] <= in_flit[p*FW +: FW];
                count[p] <= count[p] + CW'(in_valid[p]) - CW'(popped[p]);
                if (popped[p]) begin
                    head_ptr[p] <= PTRW'((int'(head_ptr[p]) + 1) % DEPTH);
                    credit_out[p] <= 1'b1;
                    if (front[p][1]) state[p] <= IDLE;
                end
            end
            for (int o = 0; o < N; o++) begin
                credits[o] <= credits[o] + CW'(credit_in[o]) - CW'(sw_grant_valid[o]);
                if (va_grant_valid[o]) begin
                    owned[o] <= 1'b1;
                    owner[o] <= va_grant[o];
                    state[va_grant[o]] <= ACTIVE;
                    rr_va[o] <= IW'((int'(va_grant[o]) + 1) % N);
                end else if (credit_in[o] && credit_in_tail[o]) begin
                    owned[o] <= 1'b0;
                end
                if (sw_grant_valid[o]) begin
                    out_valid[o] <= 1'b1;
                    out_flit[o*FW +: FW] <= front[owner[o]];
                end
            end
        end
    end
endmodule
