// ROWS x COLS int8 systolic array running one fold per start/done, weight- or output-stationary.
//
// Before start, operands are written one vector per cycle:
//   left buffer: entry t = the ROWS int8 values entering the left edge at stream step t
//   top buffer : ws: entry r = weight row r (COLS int8); os: entry t = COLS int8 entering the top
// start (with os_mode, len = T) runs the fold; done pulses once the last output exists:
//   ws: ROWS cycles shift weights in, then T + ROWS + COLS - 2 cycles stream (fill, drain included)
//   os: T + ROWS + COLS - 2 cycles stream; the results stay in the PE accumulators
// so start -> done = SystolicArray.fold_cycles(T) (hwsim/components/npu/systolic.py).
// Results are read combinationally: out_addr = ws: stream step t, os: array row r.
module systolic_array #(
    parameter int ROWS  = 4,
    parameter int COLS  = 4,
    parameter int DEPTH = 64,                 // buffer entries: max T, and >= ROWS
    localparam int AW = $clog2(DEPTH),
    localparam int LW = $clog2(DEPTH + 1)
) (
    input  logic                clk,
    input  logic                rst_n,
    input  logic                left_we,
    input  logic [AW-1:0]       left_addr,
    input  logic [ROWS*8-1:0]   left_data,    // row r in bits [8r +: 8]
    input  logic                top_we,
    input  logic [AW-1:0]       top_addr,
    input  logic [COLS*8-1:0]   top_data,     // column c in bits [8c +: 8]
    input  logic                start,
    input  logic                os_mode,      // 0: weight-stationary, 1: output-stationary
    input  logic [LW-1:0]       len,          // T, 1..DEPTH
    output logic                busy,
    output logic                done,         // one-cycle pulse after the fold's last cycle
    input  logic [AW-1:0]       out_addr,
    output logic [COLS*32-1:0]  out_data      // column c in bits [32c +: 32]
);
    localparam logic [1:0] LOAD = 2'd0, WS = 2'd1, OS = 2'd2;

    logic [ROWS*8-1:0] left_buf [DEPTH];
    logic [COLS*8-1:0] top_buf  [DEPTH];
    logic [31:0]       out_buf  [DEPTH][COLS];

    logic        os_q;
    logic [15:0] t_len, cyc;
    logic [1:0]  op;
    int          step;                         // stream step of this cycle (ws: after the load)
    assign op   = os_q ? OS : (cyc < 16'(ROWS) ? LOAD : WS);
    assign step = os_q ? int'(cyc) : int'(cyc) - ROWS;

    // Array edges: a_h[r][0] enters row r from the left, v_v[0][c] enters column c from the top.
    logic signed [7:0]  a_h [ROWS][COLS+1];
    logic signed [31:0] v_v [ROWS+1][COLS];
    logic signed [31:0] v_next [ROWS][COLS];
    logic signed [31:0] s_q [ROWS][COLS];

    always_comb begin
        for (int r = 0; r < ROWS; r++) begin
            automatic int t = step - r;        // skew: row r lags row 0 by r cycles
            a_h[r][0] = (op != LOAD && t >= 0 && t < int'(t_len)) ? left_buf[t[AW-1:0]][8*r +: 8] : '0;
        end
        for (int c = 0; c < COLS; c++) begin
            automatic int t = step - c;        // skew: column c lags column 0 by c cycles
            if (op == LOAD)
                v_v[0][c] = 32'(signed'(top_buf[AW'(ROWS - 1 - int'(cyc))][8*c +: 8]));
            else if (op == OS && t >= 0 && t < int'(t_len))
                v_v[0][c] = 32'(signed'(top_buf[t[AW-1:0]][8*c +: 8]));
            else
                v_v[0][c] = '0;
        end
    end

    for (genvar r = 0; r < ROWS; r++) begin : g_row
        for (genvar c = 0; c < COLS; c++) begin : g_col
            systolic_pe pe (
                .clk, .clear(start && !busy), .en(busy), .op,
                .a_in(a_h[r][c]), .v_in(v_v[r][c]),
                .a_out(a_h[r][c+1]), .v_out(v_v[r+1][c]), .v_next(v_next[r][c]), .s_out(s_q[r][c])
            );
        end
    end

    always_ff @(posedge clk) begin
        if (left_we) left_buf[left_addr] <= left_data;
        if (top_we) top_buf[top_addr] <= top_data;
        if (busy && op == WS)                  // ws: the bottom row emits output t of column c
            for (int c = 0; c < COLS; c++) begin
                automatic int t = step - (ROWS - 1) - c;
                if (t >= 0 && t < int'(t_len)) out_buf[t[AW-1:0]][c] <= v_next[ROWS-1][c];
            end
    end

    logic [15:0] last;                         // index of the fold's last cycle
    assign last = 16'(ROWS + COLS - 3) + t_len + (os_q ? 16'd0 : 16'(ROWS));

    always_ff @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            busy <= 1'b0;
            done <= 1'b0;
            cyc  <= '0;
            os_q <= 1'b0;
            t_len <= '0;
        end else begin
            done <= busy && cyc == last;
            if (start && !busy) begin
                busy  <= 1'b1;
                cyc   <= '0;
                os_q  <= os_mode;
                t_len <= 16'(len);
            end else if (busy) begin
                busy <= cyc != last;
                cyc  <= cyc + 16'd1;
            end
        end
    end

    always_comb
        for (int c = 0; c < COLS; c++) begin
            out_data[32*c +: 32] = out_buf[out_addr][c];
            for (int r = 0; r < ROWS; r++)
                if (os_q && int'(out_addr) == r) out_data[32*c +: 32] = s_q[r][c];
        end
endmodule
