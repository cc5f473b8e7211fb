// One NAND flash die with a Cambricon-LLM style compute core (arXiv 2409.15654 section V), scaled
// down: PLANES planes of PAGES pages of PAGE_BYTES, tR of T_READ cycles, an 8-bit channel bus moving
// one byte per cycle.
//
// Each plane has a data register and a cache register. A read (or read-compute) command starts the
// tR countdown; the page lands in the cache register if it is free, else it waits in the data
// register (the plane accepts its next command only once the data register is free). A read page
// leaves the cache register over the bus; a read-compute page (plane 0) is held by the compute core,
// which multiplies it, MACS int8 bytes per cycle, as a (PAGE_BYTES / cols) x cols tile by the next
// input vector in the input buffer (IBUF_BYTES, one slot of `cols` bytes per request) and puts the
// int32 partial sums in the output buffer (OBUF_BYTES, one slot of 4 x rows bytes per page); it
// starts a page only when that page's output slot is free (its previous result has been read).
//
// Bus commands are five command cycles (bus_cmd = 1): opcode, plane, page, column, confirm.
//   00h p n - 30h   read page n of plane p
//   0Ch 0 n c 3Ch   read-compute page n of plane 0 as a tile of 2^c columns
//   05h p h l E0h   data-out of plane p's cache register from column {h, l}; then read cycles
//   8Ch 0 0 c 1Ch   input vector of 2^c bytes; then 2^c write cycles (broadcast: ce on many dies)
//   0Eh 0 0 0 E1h   result out; then 4 x rows read cycles (int32 little-endian, row by row)
// (opcodes other than 00h/30h, 05h/E0h are this model's own; the paper gives none). `error` sticks
// on any protocol violation: a command the die is not ready for, a wrong confirm, a data cycle
// outside a data phase.
module flash_die #(
    parameter int PAGE_BYTES = 256,
    parameter int PAGES = 8,
    parameter int PLANES = 2,
    parameter int T_READ = 300,
    parameter int MACS = 4,
    parameter int IBUF_BYTES = 256,
    parameter int OBUF_BYTES = 256,
    parameter int MIN_COLS = 8,
    localparam int ADDR_W = $clog2(PLANES * PAGES * PAGE_BYTES),
    localparam int PAGE_W = $clog2(PAGE_BYTES)
) (
    input  logic clk,
    input  logic rst_n,
    input  logic ce,
    input  logic bus_valid,
    input  logic bus_cmd,
    input  logic bus_we,
    input  logic [7:0] bus_din,
    output logic [7:0] bus_dout,
    output logic [PLANES-1:0] plane_ready,   // no tR running and the data register is free
    output logic [PLANES-1:0] data_ready,    // the cache register holds a read page for data-out
    output logic input_ready,                // an input slot is free
    output logic result_ready,               // a result waits in the output buffer
    output logic error,
    output logic [PLANES-1:0] ev_move,       // a page entered the cache register at this cycle's edge
    output logic ev_core_done,               // the core finished a page at this cycle's edge
    input  logic prog_we,                    // back door that fills the array (programming is not modelled)
    input  logic [ADDR_W-1:0] prog_addr,
    input  logic [7:0] prog_data
);
    localparam int ROWS_MAX = PAGE_BYTES / MIN_COLS;
    localparam int T_CORE = PAGE_BYTES / MACS;
    localparam int IBUF_W = $clog2(IBUF_BYTES);
    localparam int TR_W = $clog2(T_READ + 1);
    localparam int PL_W = PLANES > 1 ? $clog2(PLANES) : 1;
    localparam int LOG_W = $clog2(PAGE_W + 1);
    localparam int CORE_W = $clog2(T_CORE + 1);
    localparam int RES_W = $clog2(4 * ROWS_MAX);
    localparam int ROW_W = $clog2(ROWS_MAX);
    localparam int OBUF_WORDS = OBUF_BYTES / 4;
    localparam int OW_W = $clog2(OBUF_WORDS);
    typedef enum logic [1:0] {IDLE, DATA_IN, PAGE_OUT, RESULT_OUT} mode_t;

    logic [7:0] array_q [PLANES * PAGES * PAGE_BYTES];
    logic [7:0] data_q [PLANES][PAGE_BYTES];
    logic [7:0] cache_q [PLANES][PAGE_BYTES];
    logic [PLANES-1:0] data_full_q, data_rc_q, cache_full_q, cache_rc_q;
    logic [TR_W-1:0] tr_cnt_q [PLANES];
    logic [ADDR_W-1:0] tr_base_q [PLANES];
    logic [PLANES-1:0] tr_rc_q;

    logic [7:0] cmd_q [4];
    logic [2:0] cmd_pos_q;
    mode_t mode_q;
    logic [PL_W-1:0] out_plane_q;
    logic [PAGE_W:0] out_ptr_q;
    logic [RES_W-1:0] res_ptr_q;
    logic [PAGE_W-1:0] din_ptr_q;
    logic [LOG_W-1:0] cols_log2_q;

    logic [7:0] ibuf_q [IBUF_BYTES];
    logic [15:0] in_cnt_q, started_q, finished_q, read_q;

    logic core_busy_q;
    logic [CORE_W-1:0] core_cnt_q;
    logic [PAGE_W:0] core_pos_q;
    logic [IBUF_W-1:0] core_slot_q;
    logic signed [31:0] acc_q [ROWS_MAX];
    logic signed [31:0] res_q [OBUF_WORDS];
    logic error_q;

    // ---- this cycle's bus action and what finishes at the coming edge ----
    wire on_bus = bus_valid && ce;
    wire cmd_done = on_bus && bus_cmd && cmd_pos_q == 3'd4;
    wire data_cycle = on_bus && !bus_cmd;
    wire [7:0] op = cmd_q[0];
    wire [PL_W-1:0] cmd_plane = cmd_q[1][PL_W-1:0];
    wire [PAGE_W-1:0] cols_mask = PAGE_W'((1 << cols_log2_q) - 1);
    wire input_last = data_cycle && bus_we && mode_q == DATA_IN && din_ptr_q == cols_mask;
    wire page_last = data_cycle && !bus_we && mode_q == PAGE_OUT && out_ptr_q == (PAGE_W + 1)'(PAGE_BYTES - 1);
    wire [LOG_W-1:0] rows_log2 = LOG_W'(PAGE_W) - cols_log2_q;
    wire result_last = data_cycle && !bus_we && mode_q == RESULT_OUT
                       && res_ptr_q == RES_W'((4 << rows_log2) - 1);
    wire core_done = core_busy_q && core_cnt_q == 1;
    wire [IBUF_W:0] slots = (IBUF_W + 1)'(IBUF_BYTES >> cols_log2_q);
    wire [OW_W:0] out_slots = (OW_W + 1)'(OBUF_WORDS >> rows_log2);

    logic [PLANES-1:0] land, cache_frees, move, move_rc;
    always_comb begin
        for (int p = 0; p < PLANES; p++) begin
            land[p] = tr_cnt_q[p] == 1;
            cache_frees[p] = !cache_full_q[p]
                             || (cache_rc_q[p] && core_done && p == 0)
                             || (!cache_rc_q[p] && page_last && out_plane_q == PL_W'(p));
            move[p] = cache_frees[p] && (data_full_q[p] || land[p]);
            move_rc[p] = data_full_q[p] ? data_rc_q[p] : tr_rc_q[p];
        end
    end
    wire page_waiting = cache_full_q[0] && cache_rc_q[0] && !core_busy_q;
    wire page_for_core = page_waiting || (move[0] && move_rc[0]);
    wire input_there = in_cnt_q + 16'(input_last) > started_q;
    wire out_slot_free = started_q - read_q - 16'(result_last) < 16'(out_slots);
    wire core_start = page_for_core && input_there && out_slot_free && (!core_busy_q || core_done);

    // one MAC step: MACS bytes of one row (cols >= MACS, so they never straddle rows)
    wire [ROW_W-1:0] core_row = ROW_W'(core_pos_q >> cols_log2_q);
    logic signed [31:0] mac_sum;
    always_comb begin
        mac_sum = 0;
        for (int m = 0; m < MACS; m++)
            mac_sum += 32'(signed'(cache_q[0][PAGE_W'(core_pos_q) + PAGE_W'(m)]))
                       * 32'(signed'(ibuf_q[core_slot_q + IBUF_W'(core_pos_q & (PAGE_W + 1)'(cols_mask))
                                            + IBUF_W'(m)]));
    end

    wire [OW_W-1:0] res_base = OW_W'(read_q << rows_log2);
    wire [OW_W-1:0] core_base = OW_W'(finished_q << rows_log2);
    wire [31:0] res_word = res_q[res_base + OW_W'(res_ptr_q[RES_W-1:2])];
    assign bus_dout = mode_q == PAGE_OUT ? cache_q[out_plane_q][out_ptr_q[PAGE_W-1:0]]
                                         : res_word[8 * res_ptr_q[1:0] +: 8];
    always_comb
        for (int p = 0; p < PLANES; p++) begin
            plane_ready[p] = tr_cnt_q[p] == 0 && !data_full_q[p];
            data_ready[p] = cache_full_q[p] && !cache_rc_q[p];
        end
    assign input_ready = (in_cnt_q - finished_q) < 16'(slots);
    assign result_ready = finished_q != read_q;
    assign error = error_q;

    // a command the die is not ready for, or with the wrong confirm byte
    logic bad_cmd;
    always_comb
        case (op)
            8'h00: bad_cmd = bus_din != 8'h30 || !plane_ready[cmd_plane];
            8'h0C: bad_cmd = bus_din != 8'h3C || cmd_plane != 0 || !plane_ready[0];
            8'h05: bad_cmd = bus_din != 8'hE0 || !data_ready[cmd_plane];
            8'h8C: bad_cmd = bus_din != 8'h1C || !input_ready;
            8'h0E: bad_cmd = bus_din != 8'hE1 || !result_ready;
            default: bad_cmd = 1'b1;
        endcase

    always_ff @(posedge clk) begin
        if (prog_we) array_q[prog_addr] <= prog_data;
        if (!rst_n) begin
            data_full_q <= '0; cache_full_q <= '0; data_rc_q <= '0; cache_rc_q <= '0; tr_rc_q <= '0;
            for (int p = 0; p < PLANES; p++) begin tr_cnt_q[p] <= '0; tr_base_q[p] <= '0; end
            cmd_pos_q <= '0; mode_q <= IDLE; out_plane_q <= '0; out_ptr_q <= '0; res_ptr_q <= '0;
            din_ptr_q <= '0; cols_log2_q <= LOG_W'($clog2(MIN_COLS));
            in_cnt_q <= '0; started_q <= '0; finished_q <= '0; read_q <= '0;
            core_busy_q <= 1'b0; core_cnt_q <= '0; core_pos_q <= '0; core_slot_q <= '0;
            error_q <= 1'b0;
            ev_move <= '0; ev_core_done <= 1'b0;
        end else begin
            // planes: tR countdown, page into the cache register (or the data register if it is taken)
            for (int p = 0; p < PLANES; p++) begin
                if (tr_cnt_q[p] != 0) tr_cnt_q[p] <= tr_cnt_q[p] - 1'b1;
                if (cache_frees[p]) cache_full_q[p] <= 1'b0;
                if (move[p]) begin
                    for (int i = 0; i < PAGE_BYTES; i++)
                        cache_q[p][i] <= data_full_q[p] ? data_q[p][i] : array_q[tr_base_q[p] + ADDR_W'(i)];
                    cache_full_q[p] <= 1'b1;
                    cache_rc_q[p] <= move_rc[p];
                    data_full_q[p] <= 1'b0;
                end else if (land[p]) begin
                    for (int i = 0; i < PAGE_BYTES; i++) data_q[p][i] <= array_q[tr_base_q[p] + ADDR_W'(i)];
                    data_full_q[p] <= 1'b1;
                    data_rc_q[p] <= tr_rc_q[p];
                end
            end
            ev_move <= move;
            ev_core_done <= core_done;

            // bus: command cycles, then the data cycles of the command in force
            if (on_bus && bus_cmd) begin
                cmd_pos_q <= cmd_done ? 3'd0 : cmd_pos_q + 1'b1;
                if (!cmd_done) cmd_q[cmd_pos_q[1:0]] <= bus_din;
            end
            if (cmd_done) begin
                mode_q <= IDLE;
                if (bad_cmd) error_q <= 1'b1;
                else case (op)
                    8'h00, 8'h0C: begin
                        tr_cnt_q[cmd_plane] <= TR_W'(T_READ);
                        tr_base_q[cmd_plane] <= ADDR_W'((int'(cmd_plane) * PAGES + int'(cmd_q[2])) * PAGE_BYTES);
                        tr_rc_q[cmd_plane] <= op == 8'h0C;
                        if (op == 8'h0C) cols_log2_q <= LOG_W'(cmd_q[3]);
                    end
                    8'h05: begin
                        mode_q <= PAGE_OUT; out_plane_q <= cmd_plane;
                        out_ptr_q <= (PAGE_W + 1)'({cmd_q[2], cmd_q[3]});
                    end
                    8'h8C: begin mode_q <= DATA_IN; din_ptr_q <= '0; cols_log2_q <= LOG_W'(cmd_q[3]); end
                    default: begin mode_q <= RESULT_OUT; res_ptr_q <= '0; end
                endcase
            end
            if (data_cycle) begin
                if (mode_q == DATA_IN && bus_we) begin
                    ibuf_q[IBUF_W'(in_cnt_q << cols_log2_q) + IBUF_W'(din_ptr_q)] <= bus_din;
                    din_ptr_q <= din_ptr_q + 1'b1;
                    if (input_last) begin in_cnt_q <= in_cnt_q + 1'b1; mode_q <= IDLE; end
                end else if (mode_q == PAGE_OUT && !bus_we) begin
                    out_ptr_q <= out_ptr_q + 1'b1;
                    if (page_last) mode_q <= IDLE;
                end else if (mode_q == RESULT_OUT && !bus_we) begin
                    res_ptr_q <= res_ptr_q + 1'b1;
                    if (result_last) begin read_q <= read_q + 1'b1; mode_q <= IDLE; end
                end else error_q <= 1'b1;
            end

            // compute core
            if (core_busy_q) begin
                acc_q[core_row] <= acc_q[core_row] + mac_sum;
                core_pos_q <= core_pos_q + (PAGE_W + 1)'(MACS);
                core_cnt_q <= core_cnt_q - 1'b1;
            end
            if (core_done) begin
                core_busy_q <= 1'b0;
                finished_q <= finished_q + 1'b1;
                for (int r = 0; r < ROWS_MAX; r++)
                    if (r < (1 << rows_log2))
                        res_q[core_base + OW_W'(r)] <= ROW_W'(r) == core_row ? acc_q[r] + mac_sum : acc_q[r];
            end
            if (core_start) begin
                core_busy_q <= 1'b1;
                core_cnt_q <= CORE_W'(T_CORE);
                core_pos_q <= '0;
                core_slot_q <= IBUF_W'(started_q << cols_log2_q);
                started_q <= started_q + 1'b1;
                for (int r = 0; r < ROWS_MAX; r++) acc_q[r] <= '0;
            end
        end
    end
endmodule
