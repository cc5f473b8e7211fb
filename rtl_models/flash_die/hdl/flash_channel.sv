// DIES flash dies on one 8-bit channel bus: `ce` selects the dies a bus cycle addresses (several at
// once for an input broadcast); data-out comes from the selected die. Status and event pins are
// concatenated die by die (die d owns bits [d * PLANES +: PLANES] of the per-plane ones).
module flash_channel #(
    parameter int DIES = 2,
    parameter int PAGE_BYTES = 256,
    parameter int PAGES = 8,
    parameter int PLANES = 2,
    parameter int T_READ = 300,
    parameter int MACS = 4,
    parameter int IBUF_BYTES = 256,
    parameter int OBUF_BYTES = 256,
    parameter int MIN_COLS = 8,
    localparam int ADDR_W = $clog2(PLANES * PAGES * PAGE_BYTES),
    localparam int DIE_W = DIES > 1 ? $clog2(DIES) : 1
) (
    input  logic clk,
    input  logic rst_n,
    input  logic [DIES-1:0] ce,
    input  logic bus_valid,
    input  logic bus_cmd,
    input  logic bus_we,
    input  logic [7:0] bus_din,
    output logic [7:0] bus_dout,
    output logic [DIES*PLANES-1:0] plane_ready,
    output logic [DIES*PLANES-1:0] data_ready,
    output logic [DIES-1:0] input_ready,
    output logic [DIES-1:0] result_ready,
    output logic [DIES-1:0] error,
    output logic [DIES*PLANES-1:0] ev_move,
    output logic [DIES-1:0] ev_core_done,
    input  logic prog_we,
    input  logic [DIE_W-1:0] prog_die,
    input  logic [ADDR_W-1:0] prog_addr,
    input  logic [7:0] prog_data
);
    logic [7:0] dout [DIES];
    always_comb begin
        bus_dout = '0;
        for (int d = 0; d < DIES; d++) if (ce[d]) bus_dout |= dout[d];
    end
    for (genvar d = 0; d < DIES; d++) begin : g_die
        flash_die #(.PAGE_BYTES(PAGE_BYTES), .PAGES(PAGES), .PLANES(PLANES), .T_READ(T_READ), .MACS(MACS),
                    .IBUF_BYTES(IBUF_BYTES), .OBUF_BYTES(OBUF_BYTES), .MIN_COLS(MIN_COLS)) die (
            .clk, .rst_n, .ce(ce[d]), .bus_valid, .bus_cmd, .bus_we, .bus_din, .bus_dout(dout[d]),
            .plane_ready(plane_ready[d * PLANES +: PLANES]), .data_ready(data_ready[d * PLANES +: PLANES]),
            .input_ready(input_ready[d]), .result_ready(result_ready[d]), .error(error[d]),
            .ev_move(ev_move[d * PLANES +: PLANES]), .ev_core_done(ev_core_done[d]),
            .prog_we(prog_we && prog_die == DIE_W'(d)), .prog_addr, .prog_data);
    end
endmodule
