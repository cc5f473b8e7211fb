// LUT unit: one bit-serial lookup-table GEMV tile (T-MAC / LUT Tensor Core style).
//
// out[l] = sum_k a[k] * q[l][k] for LANES weight columns of `bits`-bit codes (two's complement
// when signed_w), one activation row of n_groups*G int8 values. Phases after `start`:
//   PRE   one cycle per group: the odd-symmetric half table H[u] = a[G-1] + sum_{j<G-1} +-a[j]
//         (2^(G-1) entries, + where bit j of u is set) and the running activation sum.
//   LOOK  one cycle per (bit plane, group), MSB plane first: every lane looks up
//         T[idx] = idx[G-1] ? H[idx & mask] : -H[~idx & mask] with its G weight bits and
//         shift-accumulates across planes (Horner); the MSB plane is negated when signed_w.
//   FIN   one cycle: out = (acc + (sum_k c_k 2^k) * sum(a)) >>> 1 (undo the {0,1} -> {-1,+1} map).
// start -> done takes n_groups + bits * n_groups + 1 cycles
// (hwsim.components.sram_lut.timing.LutUnit(g=G, lanes=LANES, acts_per_cycle=G, drain=1)).
module lut_unit #(
    parameter G = 4,
    parameter LANES = 4,
    parameter ACT_W = 8,
    parameter MAX_GROUPS = 16,
    parameter ACC_W = 32,
    parameter GW = $clog2(MAX_GROUPS),
    parameter LW = (LANES > 1) ? $clog2(LANES) : 1
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire                     a_we,          // write activation group a_addr
    input  wire [GW-1:0]            a_addr,
    input  wire [G*ACT_W-1:0]       a_data,
    input  wire                     w_we,          // write weight bits of (lane, group)
    input  wire [LW-1:0]            w_lane,
    input  wire [GW-1:0]            w_addr,
    input  wire [4*G-1:0]           w_data,        // plane p at [p*G +: G], bit j = activation j
    input  wire                     start,
    input  wire [2:0]               bits,          // 1..4
    input  wire                     signed_w,
    input  wire [GW:0]              n_groups,      // 1..MAX_GROUPS
    output reg                      busy,
    output reg                      done,
    output wire [LANES*ACC_W-1:0]   out_flat
);
    localparam HALF = 1 << (G - 1);
    localparam TW = ACT_W + $clog2(G) + 1;
    localparam [1:0] IDLE = 2'd0, PRE = 2'd1, LOOK = 2'd2, FIN = 2'd3;

    reg [G*ACT_W-1:0]       act_mem [0:MAX_GROUPS-1];
    reg [4*G-1:0]           w_mem   [0:LANES*MAX_GROUPS-1];
    reg signed [TW-1:0]     table_mem [0:MAX_GROUPS*HALF-1];
    reg signed [ACC_W-1:0]  acc [0:LANES-1];
    reg signed [ACC_W-1:0]  out [0:LANES-1];
    reg signed [ACC_W-1:0]  sum_a;
    reg [1:0]               state;
    reg [GW-1:0]            grp;
    reg [1:0]               plane;

    // table builder (combinational over the current group)
    wire [G*ACT_W-1:0] grp_acts = act_mem[grp];
    reg signed [TW-1:0] entry [0:HALF-1];
    reg signed [TW-1:0] grp_sum;
    integer u, j, l;
    always @* begin
        grp_sum = 0;
        for (j = 0; j < G; j = j + 1)
            grp_sum = grp_sum + TW'($signed(grp_acts[j*ACT_W +: ACT_W]));
        for (u = 0; u < HALF; u = u + 1) begin
            entry[u] = TW'($signed(grp_acts[(G-1)*ACT_W +: ACT_W]));
            for (j = 0; j < G - 1; j = j + 1)
                if (((u >> j) & 1) != 0)
                    entry[u] = entry[u] + TW'($signed(grp_acts[j*ACT_W +: ACT_W]));
                else
                    entry[u] = entry[u] - TW'($signed(grp_acts[j*ACT_W +: ACT_W]));
        end
    end

    // lookups: one term per lane for (plane, grp)
    reg [G-1:0]             idx  [0:LANES-1];
    reg [G-2:0]             sel  [0:LANES-1];
    reg signed [ACC_W-1:0]  term [0:LANES-1];
    wire negate_plane = signed_w && ({1'b0, plane} == bits - 3'd1);
    always @* begin
        for (l = 0; l < LANES; l = l + 1) begin
            idx[l] = w_mem[l*MAX_GROUPS + {{(32-GW){1'b0}}, grp}][{30'd0, plane}*G +: G];
            sel[l] = idx[l][G-1] ? idx[l][G-2:0] : ~idx[l][G-2:0];
            term[l] = ACC_W'(table_mem[{{(32-GW){1'b0}}, grp}*HALF + {{(33-G){1'b0}}, sel[l]}]);
            if (idx[l][G-1] == negate_plane)
                term[l] = -term[l];
        end
    end

    wire last_group = ({1'b0, grp} == n_groups - 1'b1);
    wire signed [ACC_W-1:0] offset = signed_w ? -sum_a : (sum_a <<< bits) - sum_a;

    always @(posedge clk) begin
        if (a_we) act_mem[a_addr] <= a_data;
        if (w_we) w_mem[{{(32-LW){1'b0}}, w_lane}*MAX_GROUPS + {{(32-GW){1'b0}}, w_addr}] <= w_data;
        if (rst) begin
            state <= IDLE;
            busy <= 1'b0;
            done <= 1'b0;
        end else case (state)
            IDLE: if (start) begin
                state <= PRE;
                busy <= 1'b1;
                done <= 1'b0;
                grp <= 0;
                sum_a <= 0;
                for (l = 0; l < LANES; l = l + 1) acc[l] <= 0;
            end
            PRE: begin
                for (u = 0; u < HALF; u = u + 1)
                    table_mem[{{(32-GW){1'b0}}, grp}*HALF + u] <= entry[u];
                sum_a <= sum_a + ACC_W'(grp_sum);
                grp <= last_group ? 0 : grp + 1'b1;
                if (last_group) begin
                    state <= LOOK;
                    plane <= 2'(bits - 3'd1);
                end
            end
            LOOK: begin
                for (l = 0; l < LANES; l = l + 1)
                    acc[l] <= (grp == 0 ? acc[l] <<< 1 : acc[l]) + term[l];
                grp <= last_group ? 0 : grp + 1'b1;
                if (last_group) begin
                    if (plane == 0) state <= FIN;
                    else plane <= plane - 1'b1;
                end
            end
            FIN: begin
                for (l = 0; l < LANES; l = l + 1) out[l] <= (acc[l] + offset) >>> 1;
                state <= IDLE;
                busy <= 1'b0;
                done <= 1'b1;
            end
        endcase
    end

    genvar o;
    generate for (o = 0; o < LANES; o = o + 1) begin : pack
        assign out_flat[o*ACC_W +: ACC_W] = out[o];
    end endgenerate
endmodule
